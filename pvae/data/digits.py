"""scikit-learn's 8x8 digits: 1 797 images that need no download."""

from __future__ import annotations

from typing import NamedTuple

import torch
from sklearn.datasets import load_digits

__all__ = ["Split", "digits"]

TEST_FRACTION = 0.2
SPLIT_SEED = 0


class Split(NamedTuple):
    """A fixed train/test split: images as rows, their labels, and how many grey levels.

    ``levels`` is the number of distinct grey levels the pixels come in (``None`` when
    unknown); dequantization needs it.
    """

    train: torch.Tensor
    test: torch.Tensor
    train_labels: torch.Tensor
    test_labels: torch.Tensor
    levels: int | None = None


def digits(dtype: torch.dtype | None = None) -> Split:
    """The digits, scaled to [0, 1], flattened to 64 pixels, split 80/20 once and for all.

    The split is drawn with a fixed seed, so every run, test and benchmark scores on the
    same 359 test images (20% of 1 797, rounded), leaving 1 438 to train on.
    """
    bunch = load_digits()
    images = torch.as_tensor(bunch.data, dtype=dtype or torch.get_default_dtype()) / 16.0
    labels = torch.as_tensor(bunch.target)
    order = torch.randperm(len(images), generator=torch.Generator().manual_seed(SPLIT_SEED))
    n_test = round(TEST_FRACTION * len(images))
    test, train = order[:n_test], order[n_test:]
    return Split(images[train], images[test], labels[train], labels[test], levels=17)
