"""A feature space for comparing images: a small classifier trained by pvae, cached on disk.

Distances between raw pixels weigh every pixel alike, so a one-pixel shift of a stroke
counts as much as another digit. FID is usually computed in the features of an image
classifier (Inception, for photographs); for small grey images pvae trains its own: a
two-layer network on the training images and their labels, seeded, whose penultimate layer
(64 numbers) is the feature map. It takes seconds on the digits and a minute or two for
MNIST on a CPU, and is cached (``$PVAE_CACHE``, else ``$XDG_CACHE_HOME/pvae``, else
``~/.cache/pvae``) under a key of the data and the settings, so the same data give the same
features every time without retraining.
"""

from __future__ import annotations

import hashlib
import os
import warnings
from pathlib import Path
from typing import Any

import torch

from ..randomness import seeded
from ..validation import DataError, as_data, check_bool, check_positive_int, check_seed

__all__ = ["ClassifierFeatures", "cache_directory", "classifier_features"]

#: the width of the feature layer
WIDTH = 64
#: the share of the images held out to measure the classifier's accuracy
HELD_OUT = 0.1
#: the fewest images of a class a classifier learns from
MIN_PER_CLASS = 10


def cache_directory() -> Path:
    """Where pvae caches what it trains for measuring (``$PVAE_CACHE`` first)."""
    if os.environ.get("PVAE_CACHE"):
        return Path(os.environ["PVAE_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "pvae"


class ClassifierFeatures(torch.nn.Module):
    """The feature map: the trained classifier's penultimate layer, ``(N, 64)``.

    Attributes
    ----------
    accuracy : float
        The classifier's accuracy on the images it held out (a tenth): features of a
        classifier that cannot tell the classes apart would say little.
    path : Path or None
        Where it is cached.
    """

    def __init__(self, dim: int, classes: int) -> None:
        super().__init__()
        self.body = torch.nn.Sequential(torch.nn.Linear(dim, 256), torch.nn.ReLU(),
                                        torch.nn.Linear(256, WIDTH), torch.nn.ReLU())
        self.head = torch.nn.Linear(WIDTH, classes)
        self.accuracy = float("nan")
        self.path: Path | None = None

    @torch.no_grad()
    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """The features of a batch of images (any shape per image), ``(N, 64)``."""
        rows = images.reshape(len(images), -1)
        anchor = next(self.parameters())
        return self.body(rows.to(anchor)).to(images.dtype if images.is_floating_point()
                                             else anchor.dtype)


def _key(images: torch.Tensor, labels: torch.Tensor, epochs: int, seed: int) -> str:
    digest = hashlib.sha256()
    for tensor in (images.float().contiguous(), labels.long().contiguous()):
        digest.update(str(tuple(tensor.shape)).encode())
        digest.update(tensor.cpu().numpy().tobytes())
    digest.update(f"v1 epochs={epochs} seed={seed} width={WIDTH}".encode())
    return digest.hexdigest()[:20]


def _train(model: ClassifierFeatures, images: torch.Tensor, labels: torch.Tensor,
           epochs: int) -> float:
    """Adam on the cross-entropy; the accuracy on the held-out tenth."""
    order = torch.randperm(len(images))
    cut = max(1, int(len(images) * HELD_OUT))
    held, kept = order[:cut], order[cut:]
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-3)
    for _ in range(epochs):
        for batch in torch.randperm(len(kept)).split(128):
            rows = kept[batch]
            loss = torch.nn.functional.cross_entropy(
                model.head(model.body(images[rows])), labels[rows])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    with torch.no_grad():
        guessed = model.head(model.body(images[held])).argmax(1)
    return float((guessed == labels[held]).float().mean())


def classifier_features(images: Any, labels: Any, *, epochs: int = 10, seed: int = 0,
                        cache: bool = True) -> ClassifierFeatures:
    """A feature map for ``pvae.fidelity``: a classifier of ``images`` by ``labels``.

    Parameters
    ----------
    images : Tensor
        The training images, one per row (any shape per image), as the samples will be.
    labels : Tensor
        Their integer classes.
    epochs : int
        Passes over the images.
    seed : int
        Fixes the initial weights, the held-out tenth and the batches.
    cache : bool
        Read the trained classifier from the cache when there, else train and save it.
    """
    points = as_data(images, name="images", event_dims=(0, 1, 2, 3)).float()
    points = points.reshape(len(points), -1)
    try:
        classes = torch.as_tensor(labels)
    except (TypeError, ValueError, RuntimeError):
        raise DataError(f"labels must be integer classes; got {type(labels).__name__}") from None
    if classes.shape != (len(points),) or classes.is_floating_point() or classes.is_complex():
        raise DataError(f"labels must be one integer class per image ({len(points)}); got "
                        f"{tuple(classes.shape)} of {classes.dtype}")
    classes = classes.long()
    if int(classes.min()) < 0 or int(classes.max()) >= len(points):
        raise DataError(f"labels must be classes 0, 1, 2, ... below the number of images "
                        f"({len(points)}); got {int(classes.min())} to {int(classes.max())}")
    counts = torch.bincount(classes)
    if int((counts > 0).sum()) < 2 or int(counts[counts > 0].min()) < MIN_PER_CLASS:
        raise DataError(f"a classifier needs at least 2 classes with {MIN_PER_CLASS} images each "
                        f"to learn features from; got {int((counts > 0).sum())} classes, the "
                        f"smallest with {int(counts[counts > 0].min())}")
    epochs = check_positive_int(epochs, "epochs")
    cache = check_bool(cache, "cache")
    if check_seed(seed) is None:
        raise ValueError("seed must be an integer: the cached features are kept by it")
    model = ClassifierFeatures(points.shape[1], int(classes.max()) + 1)
    path = cache_directory() / f"classifier-{_key(points, classes, epochs, seed)}.pt"
    if cache and path.is_file():
        try:
            saved = torch.load(path, weights_only=True)
            model.load_state_dict(saved["state"])
            if not all(bool(torch.isfinite(value).all()) for value in saved["state"].values()):
                raise ValueError("non-finite weights")
            model.accuracy, model.path = float(saved["accuracy"]), path
            return model.eval()
        except Exception as error:  # noqa: BLE001 - a damaged cache file: train anew
            warnings.warn(f"the cached classifier {path} is unreadable ({type(error).__name__}"
                          "); training it again", UserWarning, stacklevel=2)
    with seeded(seed), torch.enable_grad():
        fresh = ClassifierFeatures(points.shape[1], int(classes.max()) + 1)
        fresh.accuracy = _train(fresh, points, classes, epochs)
    chance = float(counts.max()) / len(classes)
    if fresh.accuracy < chance + 0.25 * (1 - chance):  # a quarter of the way from chance
        warnings.warn(f"the classifier reached {fresh.accuracy:.0%} on its held-out images "
                      f"(always guessing the largest class: {chance:.0%}): its features say "
                      "little; train more epochs", UserWarning, stacklevel=2)
    if cache:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(f".{os.getpid()}.tmp")
            torch.save({"state": fresh.state_dict(), "accuracy": fresh.accuracy}, partial)
            partial.replace(path)  # whole or not at all
            fresh.path = path
        except OSError as error:
            reason = error.strerror or type(error).__name__
            warnings.warn(f"could not cache the classifier in {path.parent} ({reason}); using "
                          "it uncached: set $PVAE_CACHE to a writable folder", UserWarning,
                          stacklevel=2)
    return fresh.eval()
