"""Data sets and transforms by name: what a config's ``[data]`` table resolves.

* :data:`datasets`: ``"digits"`` (embedded in scikit-learn), ``"mnist"`` (IDX files),
  ``"idx"`` (any folder of MNIST-named IDX files: Fashion-MNIST, KMNIST) and ``"array"``
  (a ``.npy`` / ``.npz`` / ``.pt`` file, :func:`~pvae.data.files.array_file`); each factory
  returns a :class:`~pvae.data.digits.Split` of rows.
* :data:`transforms`: how the pixels become what the model scores —
  ``"none"``, ``"binarize"`` (one fixed draw), ``"dynamic_binarization"`` (a fresh draw of
  every training minibatch, a fixed one of the test set) and ``"dequantize"``
  (:math:`(k + u)/L`, a density on :math:`[0, 1]^D`).

:func:`prepare_data` applies both and returns :class:`PreparedData`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import torch

from ..registry import Registry
from .binarize import binarize, dynamic_binarization
from .dequantize import dequantize
from .digits import Split, digits
from .files import array_file, idx_folder
from .mnist import mnist

__all__ = ["PreparedData", "Transform", "datasets", "prepare_data", "transforms"]

datasets = Registry("data set", Split)
datasets.register("digits")(lambda: digits())
datasets.register("mnist")(lambda root=None: mnist(root))
datasets.register("idx")(idx_folder)
datasets.register("array")(array_file)


class Transform:
    """How a data set's grey levels become the values a model scores.

    :meth:`apply` turns the training and test images once (seeded); :attr:`per_batch`,
    when set, is applied to every training minibatch instead (``fit(transform=...)``).
    """

    per_batch: Callable[[torch.Tensor], torch.Tensor] | None = None

    def apply(self, train: torch.Tensor, test: torch.Tensor, *, levels: int | None,
              seed: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The training and test images as the model sees them (``levels``: grey levels)."""
        return train, test


transforms = Registry("transform", Transform)
transforms.register("none")(Transform)


@transforms.register("binarize")
class Binarize(Transform):
    """One seeded Bernoulli draw of every image, training and test alike."""

    def apply(self, train: torch.Tensor, test: torch.Tensor, *, levels: int | None,  # noqa: D102
              seed: int) -> tuple[torch.Tensor, torch.Tensor]:
        return binarize(train, "static", seed), binarize(test, "static", seed + 1)


@transforms.register("dynamic_binarization")
class DynamicBinarization(Transform):
    """A fresh draw of every training minibatch; one fixed draw of the test set."""

    per_batch = staticmethod(dynamic_binarization)

    def apply(self, train: torch.Tensor, test: torch.Tensor, *, levels: int | None,  # noqa: D102
              seed: int) -> tuple[torch.Tensor, torch.Tensor]:
        return train, binarize(test, "static", seed=seed)


@transforms.register("dequantize")
class Dequantize(Transform):
    """Uniform noise within each grey level's bin: a density for continuous models."""

    def apply(self, train: torch.Tensor, test: torch.Tensor, *, levels: int | None,  # noqa: D102
              seed: int) -> tuple[torch.Tensor, torch.Tensor]:
        if levels is None:
            raise ValueError("[data] transform = 'dequantize' needs the number of grey levels "
                             "of the data; set [data] levels (256 for 8-bit images)")
        return dequantize(train, levels, seed), dequantize(test, levels, seed + 1)


class PreparedData(NamedTuple):
    """The data a config names, ready for ``fit`` and for scoring.

    ``train`` is what ``fit`` sees (with ``transform`` applied to every minibatch); ``test``
    is the held-out set in the space the model scores (binarized once with a fixed seed, or
    dequantized), ``validation`` its first rows, or ``None``.
    """

    train: torch.Tensor
    test: torch.Tensor
    train_labels: torch.Tensor
    test_labels: torch.Tensor
    transform: Callable[[torch.Tensor], torch.Tensor] | None
    validation: torch.Tensor | None


def prepare_data(table: Mapping[str, Any], seed: int = 0) -> PreparedData:
    """Load the data set a ``[data]`` table names and apply its transform.

    ``table`` holds ``name`` (a data set), the data set's own options (``root``),
    ``transform`` (a name in :data:`transforms`), ``validation`` (test rows scored
    after every epoch) and ``image_shape`` (how figures draw a row, not read here);
    ``seed`` fixes the binarization or dequantization noise.
    """
    options = {k: v for k, v in table.items()
               if k not in ("transform", "validation", "image_shape")}
    split: Split = datasets.resolve(options)
    transform: Transform = transforms.resolve(table.get("transform", "none"))
    train, test = transform.apply(split.train, split.test, levels=split.levels, seed=seed)
    rows = table.get("validation", 0)
    return PreparedData(train, test, split.train_labels, split.test_labels,
                        transform.per_batch, test[:rows] if rows else None)
