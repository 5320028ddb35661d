r"""Do a model's samples look like the data? Fréchet distance, KID, precision and recall.

Each measure compares the samples with real data in a feature space :math:`f` — raw pixels,
or any callable that maps a batch of points to one row of features each:

- The **Fréchet distance** (FID, Heusel et al. 2017) between the Gaussians fitted to the two
  sets of features (below): 0 for identical feature statistics, biased upwards for finite
  sets.
- The **kernel distance** (KID, Bińkowski et al. 2018): the unbiased squared maximum mean
  discrepancy with the cubic kernel :math:`k(a, b) = (a^\top b / d + 1)^3`, averaged over
  random subsets, with its standard error.
- **Precision and recall** (Kynkäänniemi et al. 2019): each real point's ball reaches its
  ``k``-th nearest real neighbour; precision is the share of samples inside some real ball
  (are the samples realistic?), recall the share of real points inside some sample ball
  (do the samples cover the data?). A copycat of a few training images has high precision
  and low recall; noise has neither.

The Fréchet distance of features with means :math:`\mu_r, \mu_s` and covariances
:math:`\Sigma_r, \Sigma_s` is

.. math:: \lVert\mu_r - \mu_s\rVert^2
          + \mathrm{tr}\big(\Sigma_r + \Sigma_s - 2 (\Sigma_r \Sigma_s)^{1/2}\big).

FID and KID are computed by torchmetrics on the features pvae hands it, so the numbers are
those of the library people report; precision and recall, which it lacks, are written here.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torchmetrics.image.fid import FrechetInceptionDistance
from torchmetrics.image.kid import KernelInceptionDistance

from ..randomness import seeded
from ..results import summarised
from ..validation import DataError, as_data, check_positive_int
from .novelty import samples_of

__all__ = ["Fidelity", "fidelity", "pixels", "precision_recall"]

#: distances computed at once (floats) in the nearest-neighbour searches
CHUNK = 2**24
#: more KID subsets than any estimate needs (torchmetrics loops over them in Python)
MAX_SUBSETS = 1000


def pixels(x: torch.Tensor) -> torch.Tensor:
    """The raw-pixel feature map: each point flattened to one row."""
    return x.reshape(len(x), -1)


class _Given(torch.nn.Module):
    """Features already computed, handed to torchmetrics as its 'feature extractor'."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.num_features = width

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return features


@summarised()
@dataclass(frozen=True)
class Fidelity:
    """How close samples are to data in a feature space; lower distances are better.

    Attributes
    ----------
    fid : float
        The Fréchet distance between the two feature Gaussians.
    kid, kid_stderr : float
        The kernel distance (unbiased MMD², cubic kernel) over subsets, and its standard
        error over them (NaN with one subset). Unbiased means it can read below 0, most for
        a set against itself; read it against its standard error. Features of a large scale
        (hundreds) make the cubic kernel cancel: scale them to about 1.
    precision, recall : float
        The share of samples on the data's manifold, and of data on the samples'.
    features : str
        The feature space (``"pixels"`` or the callable's name).
    """

    fid: float
    kid: float
    kid_stderr: float
    precision: float
    recall: float
    features: str

    def __str__(self) -> str:
        return (f"FID {self.fid:.3f}, KID {self.kid:.4f} ± {self.kid_stderr:.4f}, precision "
                f"{self.precision:.3f}, recall {self.recall:.3f} (features: {self.features})")


def _kth_radius(points: torch.Tensor, k: int) -> torch.Tensor:
    """Each point's distance to its ``k``-th nearest other point of the same set."""
    per_chunk = max(1, CHUNK // max(1, len(points)))
    radii = []
    for start in range(0, len(points), per_chunk):
        distances = torch.cdist(points[start:start + per_chunk], points)
        radii.append(distances.kthvalue(k + 1, dim=1).values)  # the first is the point itself
    return torch.cat(radii)


def _covered(points: torch.Tensor, centres: torch.Tensor, radii: torch.Tensor) -> torch.Tensor:
    """Whether each of ``points`` lies inside some ball (``centres``, ``radii``)."""
    per_chunk = max(1, CHUNK // max(1, len(centres)))
    inside = []
    for start in range(0, len(points), per_chunk):
        distances = torch.cdist(points[start:start + per_chunk], centres)
        inside.append((distances <= radii[None, :]).any(1))
    return torch.cat(inside)


def precision_recall(real: torch.Tensor, fake: torch.Tensor, k: int = 5) -> tuple[float, float]:
    """Kynkäänniemi et al.'s precision and recall of ``fake`` against ``real`` features."""
    k = check_positive_int(k, "k")
    if k >= min(len(real), len(fake)):
        raise ValueError(f"k={k} neighbours needs more than {k} points in each set; got "
                         f"{len(real)} real and {len(fake)} samples")
    precision = _covered(fake, real, _kth_radius(real, k)).double().mean()
    recall = _covered(real, fake, _kth_radius(fake, k)).double().mean()
    return float(precision), float(recall)


def _features(name: str, value: Any, extract: Callable[[torch.Tensor], Any],
              width: int | None) -> torch.Tensor:
    points = as_data(value, name=name, event_dims=(0, 1, 2, 3))
    try:
        found = extract(points)
    except Exception as error:  # noqa: BLE001 - the user's feature map, reported as such
        raise ValueError(f"the feature map failed on {name} ({type(error).__name__}: "
                         f"{str(error).splitlines()[0] if str(error) else ''})") from None
    if not isinstance(found, torch.Tensor) or found.dim() != 2 or len(found) != len(points) \
            or found.shape[1] < 1 or found.is_complex():
        shape = tuple(found.shape) if isinstance(found, torch.Tensor) else type(found).__name__
        raise ValueError(f"the feature map must return one row of real features per point, "
                         f"({len(points)}, d) with d >= 1; it returned {shape} for {name}")
    if not bool(torch.isfinite(found).all()):
        raise DataError(f"the features of {name} hold NaN or infinite values")
    if width is not None and found.shape[1] != width:
        raise DataError(f"{name} give {found.shape[1]} features, the samples {width}: give "
                        "data and samples of the same shape")
    return found.detach().double()


def fidelity(samples: Any, data: Any, *, features: str | Callable[[torch.Tensor], Any] =
             "pixels", k: int = 5, kid_subsets: int = 20, kid_subset_size: int | None = None,
             n: int | None = None, seed: int | None = 0) -> Fidelity:
    """FID, KID, precision and recall of ``samples`` against ``data`` (see the module).

    Parameters
    ----------
    samples : Tensor or model
        Generated points, one per row; or a model with ``sample(n)``, which draws ``n``.
    data : Tensor
        Real points shaped as the samples (held-out data, for a fair reading).
    features : "pixels" or callable
        The feature space: raw pixels, or a callable from a batch of points to ``(N, d)``.
    k : int
        Neighbours that set each ball's radius for precision and recall.
    kid_subsets, kid_subset_size : int
        Random subsets KID averages over, and their size (default: half the smaller set, at
        most 1000). Its standard error treats the subsets as independent draws; they
        overlap, so read it as a rough one.
    n : int, optional
        Samples to draw from a model (default 2000); refused with samples already drawn.
    seed : int, optional
        Fixes a model's draws and KID's subsets.
    """
    extract = pixels if isinstance(features, str) and features == "pixels" else features
    if not callable(extract):
        raise ValueError(f"features must be 'pixels' or a callable; got {features!r}")
    name = "pixels" if features == "pixels" else getattr(extract, "__name__",
                                                          type(extract).__name__)
    with seeded(seed):
        samples = samples_of(samples, n)
        fake = _features("samples", samples, extract, None)
        real = _features("data", data, extract, fake.shape[1])
        if bool((real.std(0) == 0).all()):
            raise DataError("the data's features are all constant: the feature map tells "
                            "nothing apart, so every distance would read perfect")
        kid_subsets = check_positive_int(kid_subsets, "kid_subsets")
        if kid_subsets > MAX_SUBSETS:
            raise ValueError(f"kid_subsets={kid_subsets} is more than KID needs (at most "
                             f"{MAX_SUBSETS}; 20 to 100 are usual)")
        if min(len(real), len(fake)) < 4:
            raise ValueError(f"{len(fake)} samples and {len(real)} data points: FID, KID and "
                             "precision need at least 4 of each")
        check_positive_int(k, "k")
        if k >= min(len(real), len(fake)):
            raise ValueError(f"k={k} neighbours needs more than {k} points in each set; got "
                             f"{len(real)} real and {len(fake)} samples")
        size = min(len(real), len(fake), 2000) // 2 if kid_subset_size is None else \
            check_positive_int(kid_subset_size, "kid_subset_size")
        if size > min(len(real), len(fake)) or size < 2:
            raise ValueError(f"kid_subset_size={size} needs at least that many (and 2) points "
                             f"in each set; got {len(real)} real and {len(fake)} samples")
        fid = FrechetInceptionDistance(feature=_Given(fake.shape[1])).double()
        with warnings.catch_warnings():  # it keeps the features: pvae has them at hand anyway
            warnings.filterwarnings("ignore", message=".*will save all extracted features")
            kid = KernelInceptionDistance(feature=_Given(fake.shape[1]), subsets=kid_subsets,
                                          subset_size=size)
        for metric in (fid, kid):
            metric.update(real, real=True)
            metric.update(fake, real=False)
        kid_mean, kid_std = kid.compute()
        precision, recall = precision_recall(real, fake, k)
    spread = float(kid_std) / math.sqrt(kid_subsets) if kid_subsets > 1 else math.nan
    return Fidelity(float(fid.compute()), float(kid_mean), spread, precision, recall, name)
