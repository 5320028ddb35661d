r"""Does a model generate new data, or reproduce its training set? The data-copying test C_T.

Meehan, Chaudhuri and Dasgupta (2020), "A Non-Parametric Test to Detect Data-Copying in
Generative Models" (AISTATS). With a training set :math:`T`, held-out data :math:`P_n` and
samples :math:`Q_m`, let :math:`d(x) = \min_{t \in T} \lVert x - t \rVert` be a point's
distance to its nearest training point. Samples that copy sit closer to :math:`T` than
unseen data do; samples that underfit sit farther. Copying can hide in one region while
another underfits, so the space is cut into cells :math:`\pi` (k-means on :math:`T`), and in
each the Mann–Whitney statistic compares the two sets of distances:

.. math:: U_\pi = \sum_{q \in Q_\pi} \sum_{p \in P_\pi} \mathbb 1[d(q) > d(p)], \qquad
          Z_\pi = \frac{U_\pi - m_\pi n_\pi / 2}
                       {\sqrt{m_\pi n_\pi (m_\pi + n_\pi + 1) / 12}},

a z-score near 0 when the samples of the cell are as far from :math:`T` as held-out data.
The test statistic weighs the cells by their held-out mass :math:`P_n(\pi)`,

.. math:: C_T = \frac{\sum_{\pi \in \Pi_\tau} P_n(\pi)\, Z_\pi}
                     {\sum_{\pi \in \Pi_\tau} P_n(\pi)},

over the cells :math:`\Pi_\tau` that hold at least ``min_samples`` samples and held-out points
(a z-score needs both). :math:`C_T \approx 0`: the samples are as new as unseen data;
well below 0 (past -3, say): they copy; well above 0: they underfit (blurry, off the data).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
from scipy.stats import mannwhitneyu
from sklearn.cluster import KMeans

from ..randomness import seeded
from ..results import summarised
from ..validation import DataError, as_data, check_count, check_positive_int

__all__ = ["Novelty", "is_sampler", "nearest", "novelty", "samples_of"]

#: samples drawn from a model when ``n`` is not given
DRAWS = 2000
#: distances computed at once (floats) when searching the nearest training point
CHUNK = 2**24
#: the share of held-out points that may coincide with training points (duplicates happen)
MAX_OVERLAP = 0.05


def is_sampler(value: Any) -> bool:
    """Whether ``value`` is a model to draw samples from (it has ``sample(n)``), not samples."""
    return callable(getattr(value, "sample", None)) and not isinstance(value, torch.Tensor)


def samples_of(value: Any, n: int | None) -> Any:
    """``value`` itself, or ``n`` samples (default 2000) drawn from it when it is a model.

    ``n`` with samples already drawn would be ignored: it is refused instead.
    """
    if is_sampler(value):
        return value.sample(check_count(DRAWS if n is None else n, "n"))
    if n is not None:
        raise ValueError(f"n={n} sets how many samples to draw from a model; these are samples "
                         "already drawn: leave n out")
    return value


def nearest(points: torch.Tensor, reference: torch.Tensor, *, exclude_self: bool = False
            ) -> tuple[torch.Tensor, torch.Tensor]:
    """Each row of ``points``: the distance to its nearest row of ``reference``, and its index.

    In chunks of bounded memory, with exact zeros for equal rows; ``exclude_self`` (when
    ``points`` is ``reference``) skips each row's own match.
    """
    per_chunk = max(1, CHUNK // max(1, len(reference)))
    distances, indices = [], []
    for start in range(0, len(points), per_chunk):
        pairwise = torch.cdist(points[start:start + per_chunk], reference,
                               compute_mode="donot_use_mm_for_euclid_dist")
        if exclude_self:
            rows = torch.arange(pairwise.shape[0], device=pairwise.device)
            pairwise[rows, rows + start] = math.inf
        found = pairwise.min(1)
        distances.append(found.values)
        indices.append(found.indices)
    return torch.cat(distances), torch.cat(indices)


@summarised("copied")
@dataclass(frozen=True)
class Novelty:
    r"""The data-copying test of a set of samples against the training set.

    Attributes
    ----------
    c_t : float
        The statistic :math:`C_T`: about 0 when the samples are as far from the training set
        as held-out data, well below 0 when they copy it, well above when they underfit.
    cell_z : Tensor
        Each kept cell's Mann–Whitney z-score :math:`Z_\pi`.
    cell_mass : Tensor
        Each kept cell's share of the held-out data, :math:`P_n(\pi)`.
    kept_mass : float
        The held-out mass of the kept cells (the rest held too few samples to test).
    sample_distance, test_distance : Tensor
        Each sample's and each held-out point's distance to its nearest training point.
    nearest_train : Tensor
        The index of each sample's nearest training point (for the figure).
    """

    c_t: float
    cell_z: torch.Tensor
    cell_mass: torch.Tensor
    kept_mass: float
    sample_distance: torch.Tensor
    test_distance: torch.Tensor
    nearest_train: torch.Tensor

    @property
    def copied(self) -> float:
        """The share of samples closer to the training set than 90 % of held-out points."""
        closest = torch.quantile(self.test_distance.double(), 0.1)
        return float((self.sample_distance.double() < closest).double().mean())

    def __str__(self) -> str:
        verdict = ("copies its training data" if self.c_t < -3 else
                   "underfits (farther from the data than unseen data)" if self.c_t > 3 else
                   "as new as unseen data")
        return (f"C_T = {self.c_t:.2f} over {len(self.cell_z)} cells ({self.kept_mass:.0%} of "
                f"the held-out mass): {verdict}; {self.copied:.1%} of samples closer to the "
                "training set than 90% of held-out points")


def _flat(name: str, value: Any, width: int | None) -> torch.Tensor:
    tensor = as_data(value, name=name, event_dims=(0, 1, 2, 3)).double()
    tensor = tensor.reshape(len(tensor), -1)
    if width is not None and tensor.shape[1] != width:
        raise DataError(f"{name} hold points of {tensor.shape[1]} values, the training data "
                        f"{width}: give samples shaped as the data")
    return tensor


def novelty(samples: Any, train: Any, test: Any, *, cells: int = 20, min_samples: int = 20,
            n: int | None = None, seed: int | None = 0) -> Novelty:
    r"""The data-copying statistic :math:`C_T` of ``samples`` (see the module's maths).

    Parameters
    ----------
    samples : Tensor or model
        Generated points, one per row (any shape per point, as the data); or a model with a
        ``sample(n)`` method (a :class:`~pvae.VAE`), which draws ``n`` of them.
    train, test : Tensor
        The training data the model saw and held-out data from the same source, shaped as
        the samples.
    cells : int
        k-means cells on the training data.
    min_samples : int
        A cell is tested when it holds at least this many samples and held-out points.
    n : int, optional
        Samples to draw from a model (default 2000); refused with samples already drawn.
    seed : int, optional
        Fixes the k-means cells and a model's draws.
    """
    check_positive_int(min_samples, "min_samples")
    cells = check_positive_int(cells, "cells")
    with seeded(seed):
        samples = samples_of(samples, n)
        reference = _flat("train", train, None)
        drawn = _flat("samples", samples, reference.shape[1])
        held_out = _flat("test", test, reference.shape[1])
        if cells > len(reference):
            raise ValueError(f"cells={cells} is more than the {len(reference)} training points")
        if len(drawn) < min_samples or len(held_out) < min_samples:
            raise ValueError(f"{len(drawn)} samples and {len(held_out)} held-out points: each "
                             f"needs at least min_samples={min_samples} in a cell")
        means = KMeans(cells, n_init=3, random_state=seed).fit(reference.cpu().numpy())
    sample_distance, nearest_train = nearest(drawn, reference)
    test_distance, _ = nearest(held_out, reference)
    overlap = float((test_distance == 0).double().mean())
    if overlap > MAX_OVERLAP:
        raise DataError(f"{overlap:.0%} of the held-out points are training points: C_T needs "
                        "held-out data the model never saw (a test split), not the training set")
    sample_cell = torch.as_tensor(means.predict(drawn.cpu().numpy()))
    test_cell = torch.as_tensor(means.predict(held_out.cpu().numpy()))
    z, mass = [], []
    for cell in range(cells):
        q = sample_distance[sample_cell == cell].cpu().numpy()
        p = test_distance[test_cell == cell].cpu().numpy()
        if len(q) < min_samples or len(p) < min_samples:
            continue
        u = mannwhitneyu(q, p, alternative="two-sided").statistic  # pairs with d(q) > d(p)
        spread = math.sqrt(len(q) * len(p) * (len(q) + len(p) + 1) / 12)
        z.append((u - len(q) * len(p) / 2) / spread)
        mass.append(len(p) / len(held_out))
    if not z:
        raise ValueError(f"no cell holds {min_samples} samples and {min_samples} held-out "
                         "points: draw more samples, use fewer cells or a smaller min_samples")
    cell_z, cell_mass = torch.tensor(z, dtype=torch.float64), torch.tensor(mass,
                                                                         dtype=torch.float64)
    return Novelty(float((cell_mass * cell_z).sum() / cell_mass.sum()), cell_z, cell_mass,
                   float(cell_mass.sum()), sample_distance.cpu(), test_distance.cpu(),
                   nearest_train.cpu())
