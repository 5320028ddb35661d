"""Dequantization: discrete grey levels to a density on [0, 1]^D."""

from __future__ import annotations

import torch

from ..validation import check_positive_int

__all__ = ["dequantize"]


def dequantize(images: torch.Tensor, levels: int, seed: int = 0) -> torch.Tensor:
    """Map grey levels ``k / (levels - 1)`` to ``(k + u) / levels`` with ``u ~ U(0, 1)``.

    Discrete pixel values have no density; spreading each level uniformly over its own bin
    gives data on which every continuous model (Gaussian, mixture, VAE) has a comparable
    log-likelihood. ``levels`` is 17 for scikit-learn's digits and 256 for MNIST.
    """
    levels = check_positive_int(levels, "levels")
    generator = torch.Generator().manual_seed(seed)
    counts = torch.round(images * (levels - 1))
    noise = torch.rand(images.shape, generator=generator, dtype=images.dtype)
    return (counts + noise.to(images.device)) / levels
