"""Dequantization: discrete grey levels to a density on [0, 1]^D."""

from __future__ import annotations

from typing import Any

import torch

from ..validation import check_positive_int, check_seed
from .binarize import grey_levels

__all__ = ["dequantize"]


def dequantize(images: Any, levels: int, seed: int = 0) -> torch.Tensor:
    """Map grey levels ``k / (levels - 1)`` to ``(k + u) / levels`` with ``u ~ U(0, 1)``.

    Discrete pixel values have no density; spreading each level uniformly over its own bin
    gives data on which every continuous model (Gaussian, mixture, VAE) has a comparable
    log-likelihood. ``levels`` is 17 for scikit-learn's digits and 256 for MNIST.
    """
    levels = check_positive_int(levels, "levels")
    if levels < 2:
        raise ValueError(f"levels must be at least 2 (black and white); got {levels}")
    images = grey_levels(images, "dequantization")
    generator = torch.Generator().manual_seed(check_seed(seed) or 0)
    counts = torch.round(images * (levels - 1))
    noise = torch.rand(images.shape, generator=generator, dtype=images.dtype)
    return (counts + noise.to(images.device)) / levels
