r"""Several models on the same data: each one's difference from the best, with its error.

Two models scored on the same :math:`N` datapoints give per-datapoint estimates
:math:`a_n` and :math:`b_n`. Their difference :math:`\bar a - \bar b` has the *paired*
standard error :math:`\mathrm{sd}(a_n - b_n)/\sqrt N`, far smaller than the two estimates'
own errors when the same images are hard for both models. This is what ArviZ's ``compare``
reports for held-out predictive accuracy (``elpd_diff`` and ``dse``); here the pointwise
values are log-likelihood estimates, so the same arithmetic applies directly.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from typing import NamedTuple

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

    @property
    def z(self) -> float:
        """The difference in paired standard errors (0 for the best model)."""
        return self.difference / self.difference_stderr if self.difference_stderr else 0.0


def compare(estimates: Mapping[str, Estimate]) -> list[Comparison]:
    """Rank models by their estimates on the same datapoints, best first.

    Each row gives the difference from the best (``<= 0``, nats per datapoint) and its
    paired standard error.

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
    if not isinstance(estimates, Mapping) or not all(
            isinstance(estimate, Estimate) for estimate in estimates.values()):
        raise ValueError("compare takes a dict of model name -> Estimate (from pvae.exact, "
                         f"pvae.ais, pvae.iwae or pvae.elbo); got {type(estimates).__name__}")
    if len(estimates) < 2:
        raise ValueError("compare needs at least two models' estimates")
    sizes = {name: len(estimate.per_datapoint) for name, estimate in estimates.items()}
    if len(set(sizes.values())) != 1:
        raise ValueError(f"the estimates cover different numbers of datapoints ({sizes}); "
                         "score every model on the same data")
    if min(sizes.values()) < 2:
        raise ValueError("a paired standard error needs estimates over at least 2 datapoints; "
                         f"these cover {min(sizes.values())}")
    kinds = {(estimate.name, estimate.num_samples) for estimate in estimates.values()}
    if len(kinds) > 1:  # AIS-T with 2 chains is not AIS-T with 64: its bias differs
        shown = ", ".join(f"{name!r}: {estimate.name} ({estimate.num_samples} samples)"
                          for name, estimate in estimates.items())
        warnings.warn(f"compare: the models are scored by different estimators ({shown}); "
                      "each bound has a bias of its own, so the ranking mixes the models with "
                      "their estimators: score every model with the same one",
                      MixedEstimatesWarning, stacklevel=2)
    ranked = sorted(estimates.items(), key=lambda item: -item[1].value)
    best = ranked[0][1].per_datapoint.double()
    rows = []
    for name, estimate in ranked:
        difference = estimate.per_datapoint.double() - best
        if not bool(torch.isfinite(difference).all()):
            raise ValueError(f"{name}'s estimate holds non-finite values")
        stderr = float(difference.std()) / math.sqrt(len(difference))
        if stderr == 0 and bool(difference.any()):
            raise ValueError(f"{name} differs from {ranked[0][0]} by the same amount on every "
                             "datapoint: the differences have no spread, so no standard error "
                             "can be estimated from them")
        rows.append(Comparison(name, estimate, float(difference.mean()), stderr))
    return rows


def comparison_table(rows: list[Comparison]) -> str:
    """The comparison as a markdown table."""
    lines = ["| model | estimate | value | difference from best | paired s.e. |",
             "|---|---|---|---|---|"]
    lines += [f"| {row.name} | {row.estimate.name} | {row.estimate.value:.3f} | "
              f"{row.difference:.3f} | {row.difference_stderr:.3f} |" for row in rows]
    return "\n".join(lines)

