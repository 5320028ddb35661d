"""Binarization of grey levels in [0, 1], for the Bernoulli likelihood."""

from __future__ import annotations

from typing import Any

import torch

from ..validation import DataError, as_data, check_seed

__all__ = ["binarize", "dynamic_binarization", "grey_levels"]


def grey_levels(x: Any, use: str = "binarization") -> torch.Tensor:
    """``x`` as a floating-point tensor of grey levels in [0, 1] (any shape), or a DataError."""
    tensor = as_data(x, event_dims=tuple(range(8)), name="the images")
    if bool((tensor < 0).any() or (tensor > 1).any()):
        raise DataError(
            f"{use} reads values as grey levels and needs them in [0, 1]; got "
            f"[{float(tensor.min()):.3g}, {float(tensor.max()):.3g}]. Rescale first "
            "(MNIST: x / 255).")
    return tensor


def dynamic_binarization(x: torch.Tensor) -> torch.Tensor:
    r"""A fresh draw :math:`b \sim \mathrm{Bernoulli}(x)` every call.

    Pass it as ``pvae.fit(..., transform=dynamic_binarization)``: every minibatch of every
    epoch sees a new binary sample of each image, which regularises and scores about 2 nats
    better on binarized MNIST than one fixed draw.
    """
    return torch.bernoulli(grey_levels(x))


def binarize(x: torch.Tensor, mode: str = "static", seed: int = 0) -> torch.Tensor:
    """Binarize once: ``"static"`` draws one seeded sample, ``"threshold"`` rounds at 0.5.

    For a fresh draw per epoch use :func:`dynamic_binarization` as ``fit``'s ``transform``.
    """
    x = grey_levels(x)
    seed = check_seed(seed) or 0
    if mode == "static":
        generator = torch.Generator(device=x.device).manual_seed(seed)
        return torch.bernoulli(x, generator=generator)
    if mode == "threshold":
        return (x > 0.5).to(x.dtype)
    raise ValueError(f"unknown binarization {mode!r}; use 'static' or 'threshold' (or "
                     "fit(..., transform=pvae.data.dynamic_binarization) for 'dynamic')")
