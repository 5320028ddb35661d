r"""Holes in a latent space: codes a decoder was never trained near.

A decoder learns from the codes it is fed in training: for a deterministic autoencoder the
points :math:`f(x_n)`, for a VAE draws :math:`z_n \sim q(z \mid x_n)`. A code far from all
of them — farther than training codes lie from one another — is in a *hole*: nothing told
the decoder what to make of it. Sampling the prior, or walking between two codes, lands in
holes as often as the training codes leave the prior's mass uncovered.

The measure, for a code :math:`u` and training codes :math:`c_1, \dots, c_N`:

.. math:: r(u) = \frac{\min_n \lVert u - c_n \rVert}{s}, \qquad
          s = \operatorname{median}_n \min_{m \ne n} \lVert c_n - c_m \rVert ,

the distance to the nearest training code in units of the codes' own typical spacing. A
code is in a hole when it is farther from every training code than ``quantile`` (0.99) of
the training codes are from their nearest neighbour: :math:`r(u) > t`, with :math:`t` that
quantile in the same units. On training codes :math:`r = 0`.

Where the guide has a density, the *coverage* says how much of the prior's mass the
aggregate posterior :math:`q(z) = \frac1N \sum_n q(z \mid x_n)` covers:

.. math:: \int \min\big(p(z), q(z)\big)\,dz
          = \mathbb{E}_{p(z)}\Big[\min\Big(1, \frac{q(z)}{p(z)}\Big)\Big]
          = 1 - \mathrm{TV}(p, q),

1 when the codes fill the prior exactly, near 0 when they occupy a sliver of it. A point
mass guide (an autoencoder) has no density, and no coverage.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pyro
import torch

from ..pair import PairError, is_point_mass, latent_densities, unit_kl_weight
from ..randomness import seeded
from ..results import summarised
from ..validation import check_positive_int, check_seed
from .importance import prepare
from .novelty import nearest

__all__ = ["Holes", "hole_distances", "holes"]

#: a code is in a hole beyond this quantile of the training codes' neighbour distances
QUANTILE = 0.99
#: pairwise distances computed per chunk, at most this many
CHUNK = 2**22


@summarised("share")
@dataclass(frozen=True)
class HoleDistances:
    """Distances to the nearest training code, in units of the codes' median spacing."""

    distance: torch.Tensor
    spacing: float
    threshold: float

    @property
    def share(self) -> float:
        """The share of the codes that lie in a hole (beyond the threshold)."""
        return float((self.distance > self.threshold).double().mean())


def hole_distances(draws: Any, codes: Any, *, quantile: float = QUANTILE) -> HoleDistances:
    """How far each of ``draws`` lies from the nearest of ``codes``, relative to their spacing.

    ``draws`` is ``(M, D)``, ``codes`` ``(N, D)`` with ``N >= 2``; see the module's maths.
    """
    draws, codes = (torch.as_tensor(value) for value in (draws, codes))
    for name, value in (("draws", draws), ("codes", codes)):
        if value.dim() != 2 or value.shape[0] == 0 or not value.is_floating_point():
            raise ValueError(f"{name} must be a non-empty (rows, dimensions) float tensor; got "
                             f"shape {tuple(value.shape)} of {value.dtype}")
        if not bool(torch.isfinite(value).all()):
            raise ValueError(f"{name} hold NaN or infinite values")
    if draws.shape[1] != codes.shape[1]:
        raise ValueError(f"draws are {draws.shape[1]}-dimensional but the codes are "
                         f"{codes.shape[1]}-dimensional: give codes of the latent's width")
    if len(codes) < 2:
        raise ValueError("the spacing of the codes needs at least 2 of them")
    if not 0 < quantile < 1:
        raise ValueError(f"quantile must lie in (0, 1); got {quantile}")
    draws = draws.to(codes)
    own, _ = nearest(codes, codes, exclude_self=True)
    spacing = float(own.median())
    if spacing == 0:
        raise ValueError("half of the codes coincide with another: their spacing is 0, and no "
                         "distance can be measured against it")
    threshold = float(torch.quantile(own.double(), quantile)) / spacing
    return HoleDistances(nearest(draws, codes)[0] / spacing, spacing, threshold)


@summarised()
@dataclass(frozen=True)
class Holes:
    r"""Where a pair's prior and its interpolations leave the codes its decoder was trained on.

    Attributes
    ----------
    prior, interpolation : HoleDistances
        Codes drawn from the prior, and points on straight lines between two training codes:
        each one's distance to the nearest training code, and ``.share`` of them in a hole.
    coverage : float or None
        :math:`\int \min(p, q)`, the prior mass the aggregate posterior covers; ``None``
        for a point-mass guide (see ``note``).
    codes : Tensor
        The training codes: one draw from q(z | x) per row (the point itself for a Delta).
    prior_draws : Tensor
        The codes drawn from the prior, in the order of ``prior.distance``.
    note : str
        How each number was found.
    """

    prior: HoleDistances
    interpolation: HoleDistances
    coverage: float | None
    codes: torch.Tensor
    prior_draws: torch.Tensor
    note: str


def _coverage(q: Any, prior: Any, draws: torch.Tensor) -> float:
    """E_p[min(1, q(z) / p(z))] over prior draws, q the mixture of the rows' q(z | x_n)."""
    rows = q.batch_shape[0]
    per_chunk = max(1, CHUNK // max(1, rows * draws.shape[-1]))
    ratios = []
    for start in range(0, len(draws), per_chunk):
        z = draws[start:start + per_chunk]
        log_q = torch.logsumexp(q.log_prob(z[:, None, :].expand(-1, rows, -1)), 1)
        log_p = prior.log_prob(z[:, None, :].expand(-1, rows, -1))[:, 0]
        ratios.append((log_q - math.log(rows) - log_p).clamp(max=0).exp())
    return float(torch.cat(ratios).mean())


def holes(pair: Any, x: Any, *, draws: int = 2000, paths: int = 200, steps: int = 8,
          quantile: float = QUANTILE, seed: int | None = 0) -> Holes:
    """Measure the holes between the codes of ``x`` (the training data, or a part of it).

    ``draws`` codes from the prior and ``paths`` straight lines between random pairs of
    training codes (``steps`` inner points each) are measured against one training code per
    row of ``x``. Needs a pair with one continuous latent site per datapoint (any guide:
    Normal, flow or Delta); ``seed`` makes the draws repeatable and leaves the caller's
    random state as it was (``None``: the global generators).
    """
    draws, paths, steps = (check_positive_int(value, name) for value, name in
                           ((draws, "draws"), (paths, "paths"), (steps, "steps")))
    seed = check_seed(seed)
    if not isinstance(quantile, float | int) or isinstance(quantile, bool) \
            or not 0 < quantile < 1:
        raise ValueError(f"quantile must be a number in (0, 1); got {quantile!r}")
    if draws * 1.0 > 1e7 or paths * steps > 1e7:
        raise ValueError(f"{draws} draws or {paths}x{steps} path points: more than any "
                         "measure needs (at most 1e7)")
    if not callable(getattr(pair, "guide", None)) or not callable(getattr(pair, "model", None)):
        raise PairError(f"holes are measured between the codes an encoder gives; "
                        f"{type(pair).__name__} has no model/guide pair")
    tensor = prepare(pair, x)
    if len(tensor) < 3:
        raise ValueError(f"holes are measured between training codes: give at least 3 rows "
                         f"of data, not {len(tensor)}")
    with seeded(seed), unit_kl_weight(pair), pyro.validation_enabled(False), torch.no_grad():
        q, prior, _ = latent_densities(pair, tensor)
        codes = q.sample()
        rounds = math.ceil(draws / len(tensor))
        prior_draws = prior.sample((rounds,)).reshape(-1, codes.shape[-1])[:draws]
        ends = torch.randint(len(codes), (2, paths), device=codes.device)
        t = torch.linspace(0, 1, steps + 2, dtype=codes.dtype, device=codes.device)[1:-1]
        path_points = (codes[ends[0], None] * (1 - t[:, None])
                       + codes[ends[1], None] * t[:, None]).reshape(-1, codes.shape[-1])
        on_prior = hole_distances(prior_draws, codes, quantile=quantile)
        on_paths = hole_distances(path_points, codes, quantile=quantile)
        point_mass = is_point_mass(q)
        coverage = None if point_mass else _coverage(q, prior, prior_draws)
    how = ("training codes: the encoder's points f(x) (a point-mass guide has no density, "
           "so no coverage)" if point_mass else
           f"training codes: one draw from q(z | x) per row; coverage by Monte Carlo over "
           f"{len(prior_draws)} prior draws against the mixture of {len(tensor)} posteriors")
    return Holes(on_prior, on_paths, coverage, codes.cpu(), prior_draws.cpu(), how)
