r"""Several models on the same data: each one's difference from the best, with its error.

Two models scored on the same :math:`N` datapoints give per-datapoint estimates
:math:`a_n` and :math:`b_n`. Their difference :math:`\bar a - \bar b` has the *paired*
standard error :math:`\mathrm{sd}(a_n - b_n)/\sqrt N`, far smaller than the two estimates'
own errors when the same images are hard for both models. This is what ArviZ's ``compare``
reports for held-out predictive accuracy (``elpd_diff`` and ``dse``); here the pointwise
values are log-likelihood estimates, so the same arithmetic applies directly.

The test of a difference :math:`d` with standard error :math:`s` is the normal
approximation: :math:`z = d / s` and the two-sided p-value :math:`p = \mathrm{erfc}(|z| /
\sqrt 2) = 2\,(1 - \Phi(|z|))`. With hundreds of datapoints the mean of the differences is
close to normal (the central limit theorem); with a handful, a t-distribution would be wider.

A model fitted from several training seeds :math:`s = 1..S` gives one estimate per seed,
:math:`a_{sn}`. Its pooled per-datapoint value is :math:`\bar a_n = \frac1S \sum_s a_{sn}`;
its between-seed spread is :math:`\sigma_a = \mathrm{sd}_s(\frac1N \sum_n a_{sn})`, how much
the model's score moves with the seed it was trained from. The difference of two pooled
models has the standard error

.. math:: s^2 = \frac{\mathrm{var}_n(\bar a_n - \bar b_n)}{N} + \frac{\sigma_a^2}{S_a}
          + \frac{\sigma_b^2}{S_b},

the data's (paired) part and each model's seed part (a model with one seed adds none: its
spread cannot be estimated, which a single fit hides rather than removes).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import torch

from ..results import summarised
from .importance import Estimate

__all__ = ["Comparison", "MixedEstimatesWarning", "compare", "comparison_table"]


class MixedEstimatesWarning(UserWarning):
    """Models compared through different estimators: the ranking mixes model and estimator."""


@summarised()
class Comparison(NamedTuple):
    """One model's row: its estimate and its paired difference from the best model."""

    name: str
    estimate: Estimate
    difference: float
    difference_stderr: float
    #: how many training seeds were pooled into ``estimate``
    seeds: int = 1
    #: the standard deviation of the model's value across those seeds (0 with one seed)
    seed_spread: float = 0.0

    @property
    def z(self) -> float:
        """The difference in its standard errors (0 for the best model)."""
        return self.difference / self.difference_stderr if self.difference_stderr else 0.0

    @property
    def p_value(self) -> float:
        r"""The two-sided p-value of the difference, :math:`\mathrm{erfc}(|z|/\sqrt2)`.

        The normal approximation to the mean of the paired differences (1 for the best
        model and for a model no different from it).
        """
        return math.erfc(abs(self.z) / math.sqrt(2))


def compare(estimates: Mapping[str, Estimate | Sequence[Estimate]]) -> list[Comparison]:
    r"""Rank models by their estimates on the same datapoints, best first.

    Each row gives the difference from the best (``<= 0``, nats per datapoint), its paired
    standard error, and the test of it: :attr:`Comparison.z` and the two-sided
    :attr:`Comparison.p_value`, by the normal approximation (see the module's text).

    Parameters
    ----------
    estimates : dict of str to Estimate or list of Estimate
        Each model's estimate on the same datapoints; a list holds one estimate per
        training seed of that model (fits that differ only in their seed), pooled as the
        module's text says: the mean over seeds per datapoint, and the between-seed spread
        added to the standard error of every difference the model takes part in.

    Raises
    ------
    ValueError
        With fewer than two models, estimates over different numbers of datapoints or over
        fewer than two (no standard error), or a model whose differences from the best do not
        vary while their mean does (no standard error can be estimated from them).

    Warns
    -----
    MixedEstimatesWarning
        When the estimates are of different kinds (one model's ELBO against another's
        IWAE-100 or exact value): each bound has a bias of its own, so a difference between
        them is partly the estimators'. Score every model with the same estimator.
    """
    pooled = _pooled(estimates)
    means = {name: estimate for name, (estimate, _, _) in pooled.items()}
    if len(means) < 2:
        raise ValueError("compare needs at least two models' estimates")
    sizes = {name: len(estimate.per_datapoint) for name, estimate in means.items()}
    if len(set(sizes.values())) != 1:
        raise ValueError(f"the estimates cover different numbers of datapoints ({sizes}); "
                         "score every model on the same data")
    if min(sizes.values()) < 2:
        raise ValueError("a paired standard error needs estimates over at least 2 datapoints; "
                         f"these cover {min(sizes.values())}")
    kinds = {(estimate.name, estimate.num_samples) for estimate in means.values()}
    if len(kinds) > 1:  # AIS-T with 2 chains is not AIS-T with 64: its bias differs
        shown = ", ".join(f"{name!r}: {estimate.name} ({estimate.num_samples} samples)"
                          for name, estimate in means.items())
        warnings.warn(f"compare: the models are scored by different estimators ({shown}); "
                      "each bound has a bias of its own, so the ranking mixes the models with "
                      "their estimators: score every model with the same one",
                      MixedEstimatesWarning, stacklevel=2)
    ranked = sorted(means.items(), key=lambda item: -item[1].value)
    best_name = ranked[0][0]
    best = ranked[0][1].per_datapoint.double()
    _, best_seeds, best_spread = pooled[best_name]
    rows = []
    for name, estimate in ranked:
        difference = estimate.per_datapoint.double() - best
        if not bool(torch.isfinite(difference).all()):
            raise ValueError(f"{name}'s estimate holds non-finite values")
        _, seeds, spread = pooled[name]
        variance = float(difference.var()) / len(difference) if len(difference) > 1 else 0.0
        if name != best_name:
            variance += spread**2 / seeds + best_spread**2 / best_seeds
        stderr = math.sqrt(variance)
        if stderr == 0 and bool(difference.any()):
            raise ValueError(f"{name} differs from {best_name} by the same amount on every "
                             "datapoint: the differences have no spread, so no standard error "
                             "can be estimated from them")
        rows.append(Comparison(name, estimate, float(difference.mean()), stderr, seeds, spread))
    return rows


def _pooled(estimates: Any) -> dict[str, tuple[Estimate, int, float]]:
    """Each model's estimate (the mean over its seeds), its number of seeds and their spread."""
    if not isinstance(estimates, Mapping):
        raise ValueError("compare takes a dict of model name -> Estimate (from pvae.exact, "
                         f"pvae.ais, pvae.iwae or pvae.elbo); got {type(estimates).__name__}")
    pooled = {}
    for name, given in estimates.items():
        seeds = [given] if isinstance(given, Estimate) else given
        if isinstance(seeds, str) or not isinstance(seeds, Sequence) or not all(
                isinstance(seed, Estimate) for seed in seeds):
            raise ValueError("compare takes a dict of model name -> Estimate (from pvae.exact, "
                             "pvae.ais, pvae.iwae or pvae.elbo) or list of Estimates (one per "
                             f"training seed); {name!r} is a {type(given).__name__}")
        if not seeds:
            raise ValueError(f"{name!r} has no estimates: give one Estimate, or one per seed")
        if len({(seed.name, seed.num_samples) for seed in seeds}) > 1:
            raise ValueError(f"the seeds of {name!r} were scored by different estimators "
                             f"({', '.join(seed.name for seed in seeds)}); score every seed "
                             "with the same one")
        if len({len(seed.per_datapoint) for seed in seeds}) > 1:
            raise ValueError(f"the seeds of {name!r} cover different numbers of datapoints; "
                             "score every seed on the same data")
        if len(seeds) == 1:
            pooled[name] = (seeds[0], 1, 0.0)
            continue
        values = torch.stack([seed.per_datapoint.double() for seed in seeds])
        spread = float(values.mean(1).std())
        first = seeds[0]
        pooled[name] = (Estimate.of(first.name, values.mean(0), first.num_samples), len(seeds),
                        spread)
    return pooled


def comparison_table(rows: list[Comparison]) -> str:
    """The comparison as a markdown table, with each difference's z and two-sided p-value."""
    lines = ["| model | estimate | value | difference from best | paired s.e. | z | p |",
             "|---|---|---|---|---|---|---|"]
    for row in rows:
        test = ("| — | — |" if row.difference_stderr == 0
                else f"| {row.z:.2f} | {_p(row.p_value)} |")
        lines.append(f"| {row.name} | {row.estimate.name} | {row.estimate.value:.3f} | "
                     f"{row.difference:.3f} | {row.difference_stderr:.3f} {test}")
    return "\n".join(lines)


def _p(value: float) -> str:
    """A p-value as a reader weighs it: three decimals, or how small it is below 0.001."""
    return f"{value:.3f}" if value >= 1e-3 else f"{value:.0e}"
