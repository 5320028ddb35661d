"""Every figure that applies to a trained model, as ``pvae plot`` draws them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from matplotlib.figure import Figure

from .images import interpolations, reconstructions, samples
from .latent import latent_manifold, latent_space
from .points import against_data, as_images
from .training import training_curves

__all__ = ["IMAGE_METHODS", "checkpoint_figures", "draws_images"]

#: what a model needs for the image figures
IMAGE_METHODS = ("sample", "decode", "encode", "reconstruct", "interpolate")


def draws_images(model: Any) -> bool:
    """Whether ``model`` can be drawn as images (a VAE: it samples, encodes and decodes)."""
    return all(callable(getattr(model, name, None)) for name in IMAGE_METHODS)


def checkpoint_figures(model: Any, test: torch.Tensor, test_labels: torch.Tensor | None,
                       history: Any = None, *, name: str = "this model",
                       compare: Mapping[str, Any] | None = None,
                       image_shape: Any = None) -> dict[str, Figure]:
    """Every figure that applies to a trained model, by file stem.

    Training curves when ``history`` has epochs; for a VAE also reconstructions, prior
    samples and the latent space. Rows that are images (``image_shape``, or square rows,
    :func:`~pvae.plots.points.as_images`) add, in 2-D, the decoder's manifold and an
    interpolation between two test images of different labels, beside each model in
    ``compare``; other rows draw the samples and reconstructions against the test data
    (:func:`~pvae.plots.points.against_data`).
    """
    figures: dict[str, Figure] = {}
    if history is not None and history.epoch:
        figures["training_curves"] = training_curves(history)
    if not draws_images(model):
        return figures
    anchor = next(model.parameters())
    test = test.to(anchor)
    shape = as_images(test[0].numel(), image_shape)
    codes, _ = model.encode(test)
    labels = (test_labels if test_labels is not None and bool((test_labels >= 0).any())
              else None)  # unlabelled rows (-1) are drawn in one colour, without a colour bar
    if shape is None:  # draws x ~ p(x | z), not its mean: points spread as the data do
        figures["samples"] = against_data(model.sample(len(test), mean=False), test,
                                          title="Samples from the model against the test data")
        figures["reconstructions"] = against_data(
            model.reconstruct(test), test, label="reconstruction",
            title="Reconstructions of the test data")
        figures["latent_space"] = latent_space(codes, labels)
        return figures
    figures["reconstructions"] = reconstructions(test[:10], model.reconstruct(test[:10]),
                                                 image_shape=shape)
    figures["samples"] = samples(model.sample(32), image_shape=shape)
    figures["latent_space"] = latent_space(codes, labels)
    if codes.shape[1] == 2:
        figures["latent_manifold"] = latent_manifold(model.decode, x_shape=shape, like=anchor)
    other = next((i for i in range(len(labels)) if labels[i] != labels[0]),
                 min(1, len(test) - 1)) if labels is not None else min(1, len(test) - 1)
    paths = {name: model.interpolate(test[0], test[other])}
    for label, compared in (compare or {}).items():
        where = next(compared.parameters())
        paths[label] = compared.interpolate(test[0].to(where), test[other].to(where))
    figures["interpolation"] = interpolations(paths, image_shape=shape)
    return figures
