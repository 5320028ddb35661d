"""Every figure that applies to a trained model, as ``pvae plot`` draws them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from matplotlib.figure import Figure

from .images import interpolations, reconstructions, samples
from .latent import latent_manifold, latent_space
from .training import training_curves

__all__ = ["IMAGE_METHODS", "checkpoint_figures", "draws_images"]

#: what a model needs for the image figures
IMAGE_METHODS = ("sample", "decode", "encode", "reconstruct", "interpolate")


def draws_images(model: Any) -> bool:
    """Whether ``model`` can be drawn as images (a VAE: it samples, encodes and decodes)."""
    return all(callable(getattr(model, name, None)) for name in IMAGE_METHODS)


def checkpoint_figures(model: Any, test: torch.Tensor, test_labels: torch.Tensor,
                       history: Any = None, *, name: str = "this model",
                       compare: Mapping[str, Any] | None = None) -> dict[str, Figure]:
    """Every figure that applies to a trained model, by file stem.

    Training curves when ``history`` has epochs; for a VAE also reconstructions, prior
    samples, the latent space (and, in 2-D, the decoder's manifold) and an interpolation
    between two test images of different labels, beside each model in ``compare``.
    """
    figures: dict[str, Figure] = {}
    if history is not None and history.epoch:
        figures["training_curves"] = training_curves(history)
    if not draws_images(model):
        return figures
    anchor = next(model.parameters())
    test = test.to(anchor)
    figures["reconstructions"] = reconstructions(test[:10], model.reconstruct(test[:10]))
    figures["samples"] = samples(model.sample(32))
    codes, _ = model.encode(test)
    figures["latent_space"] = latent_space(codes, test_labels)
    if codes.shape[1] == 2:
        figures["latent_manifold"] = latent_manifold(model.decode, x_shape=tuple(test.shape[1:]),
                                                     like=anchor)
    other = next((i for i in range(len(test_labels)) if test_labels[i] != test_labels[0]),
                 min(1, len(test) - 1))
    paths = {name: model.interpolate(test[0], test[other])}
    for label, compared in (compare or {}).items():
        where = next(compared.parameters())
        paths[label] = compared.interpolate(test[0].to(where), test[other].to(where))
    figures["interpolation"] = interpolations(paths)
    return figures
