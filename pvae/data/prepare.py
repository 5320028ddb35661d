"""Data sets and transforms by name: what a config's ``[data]`` table resolves.

* :data:`datasets`: ``"digits"`` (embedded in scikit-learn) and ``"mnist"`` (IDX files);
  each factory returns a :class:`~pvae.data.digits.Split` of images scaled to [0, 1].
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
from .mnist import mnist

__all__ = ["LEVELS", "PreparedData", "Transform", "datasets", "prepare_data", "transforms"]

#: grey levels of each data set, for dequantization
LEVELS = {"digits": 17, "mnist": 256}

datasets = Registry("data set", Split)
datasets.register("digits")(lambda: digits())
datasets.register("mnist")(lambda root=None: mnist(root))


class Transform:
    """How a data set's grey levels become the values a model scores.

    :meth:`apply` turns the training and test images once (seeded); :attr:`per_batch`,
    when set, is applied to every training minibatch instead (``fit(transform=...)``).
    """

    per_batch: Callable[[torch.Tensor], torch.Tensor] | None = None

    def apply(self, train: torch.Tensor, test: torch.Tensor, *, levels: int,
              seed: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The training and test images as the model sees them."""
        return train, test


transforms = Registry("transform", Transform)
transforms.register("none")(Transform)


@transforms.register("binarize")
class Binarize(Transform):
    """One seeded Bernoulli draw of every image, training and test alike."""

    def apply(self, train: torch.Tensor, test: torch.Tensor, *, levels: int,  # noqa: D102
              seed: int) -> tuple[torch.Tensor, torch.Tensor]:
        return binarize(train, "static", seed), binarize(test, "static", seed + 1)


@transforms.register("dynamic_binarization")
class DynamicBinarization(Transform):
    """A fresh draw of every training minibatch; one fixed draw of the test set."""

    per_batch = staticmethod(dynamic_binarization)

    def apply(self, train: torch.Tensor, test: torch.Tensor, *, levels: int,  # noqa: D102
              seed: int) -> tuple[torch.Tensor, torch.Tensor]:
        return train, binarize(test, "static", seed=seed)


@transforms.register("dequantize")
class Dequantize(Transform):
    """Uniform noise within each grey level's bin: a density for continuous models."""

    def apply(self, train: torch.Tensor, test: torch.Tensor, *, levels: int,  # noqa: D102
              seed: int) -> tuple[torch.Tensor, torch.Tensor]:
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
    ``transform`` (a name in :data:`transforms`) and ``validation`` (test rows scored
    after every epoch); ``seed`` fixes the binarization or dequantization noise.
    """
    options = {k: v for k, v in table.items() if k not in ("transform", "validation")}
    split: Split = datasets.resolve(options)
    transform: Transform = transforms.resolve(table.get("transform", "none"))
    levels = LEVELS[options.get("name", "digits")]
    train, test = transform.apply(split.train, split.test, levels=levels, seed=seed)
    rows = table.get("validation", 0)
    return PreparedData(train, test, split.train_labels, split.test_labels,
                        transform.per_batch, test[:rows] if rows else None)
