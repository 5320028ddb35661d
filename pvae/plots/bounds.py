"""The ELBO and IWAE-k against k, beside the exact log-likelihood where there is one."""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from typing import NamedTuple

from matplotlib.figure import Figure

from ..estimate import Estimate

__all__ = ["BoundLadder", "bounds_against_k", "paired_difference"]

#: what every bounds_against_k figure says under its panels
NOTE = ("Bars: ± one standard error over the datapoints. The ELBO (×, at k = 1, where IWAE-1 "
        "is the ELBO) is the mean log-weight over all k_max draws per datapoint; IWAE-k uses "
        "the first k of those same draws. Each point is a Monte Carlo estimate of a bound, not "
        "the bound: a point can cross the next bound (IWAE-k above log p(x)) by noise. The "
        "paired difference in each panel, from the same data and draws, is the one to read.")


class BoundLadder(NamedTuple):
    """One model's estimates on one data set, from one set of importance draws.

    ``elbo`` and ``iwae`` are what one :func:`pvae.iwae_ladder` (or :func:`pvae.score`) call
    returns: the ELBO is the mean log-weight over all ``max(k)`` draws per datapoint and
    IWAE-k uses the first ``k`` of the same draws.
    """

    name: str
    elbo: Estimate
    iwae: Sequence[Estimate]
    exact: Estimate | None = None


def paired_difference(a: Estimate, b: Estimate) -> tuple[float, float]:
    """``a - b`` and its paired standard error, from their values on the same datapoints."""
    if len(a.per_datapoint) != len(b.per_datapoint):
        raise ValueError(f"{a.name} and {b.name} cover different numbers of datapoints "
                         f"({len(a.per_datapoint)}, {len(b.per_datapoint)}): no paired "
                         "difference")
    difference = a.per_datapoint.double() - b.per_datapoint.double()
    count = len(difference)
    spread = float(difference.std()) if count > 1 else 0.0
    return float(difference.mean()), spread / math.sqrt(count)


def _checked(ladder: BoundLadder) -> BoundLadder:
    """The ladder, if its ELBO and IWAE-k come from one set of draws on the same data."""
    if not ladder.iwae:
        raise ValueError(f"{ladder.name}: no IWAE-k estimates to draw")
    k_max = max(estimate.num_samples for estimate in ladder.iwae)
    if ladder.elbo.num_samples != k_max:
        raise ValueError(
            f"{ladder.name}: the ELBO comes from {ladder.elbo.num_samples} draws per datapoint "
            f"but the largest IWAE-k from {k_max}; draw both from one set of samples "
            "(elbo, iwae = pvae.iwae_ladder(pair, x, ks)) so that they can be compared")
    sizes = {len(e.per_datapoint) for e in (ladder.elbo, *ladder.iwae, *(
        [ladder.exact] if ladder.exact is not None else []))}
    if len(sizes) != 1:
        raise ValueError(f"{ladder.name}: the estimates cover different numbers of datapoints "
                         f"({sorted(sizes)}); score them on the same data")
    return ladder


def bounds_against_k(ladders: Sequence[BoundLadder], *, title: str = "",
                     columns: int = 4) -> Figure:
    r"""One panel per model: IWAE-k rising with k towards log p(x), each with ± one s.e.

    Each panel draws the ELBO at k = 1 (a cross: :math:`\mathcal L_1` is the ELBO, here
    estimated from all ``k_max`` draws rather than IWAE-1's single one) and IWAE-k for every
    larger k, from the first k of the same draws, joined over a logarithmic k axis; when the
    model has one, the exact log-likelihood is a dotted line that the bounds approach from
    below. Bars are ± one standard error over the datapoints. Each panel also gives the paired
    difference (with its standard error) that says whether the last rung has closed the gap:
    log p(x) − IWAE-k_max where log p(x) is known, IWAE-k_max − ELBO otherwise. Panels keep
    their own vertical scale (models differ by far more than their bounds do).

    Raises
    ------
    ValueError
        Without ladders, or with a ladder whose ELBO and IWAE-k do not come from one set of
        draws on the same data.
    """
    if not ladders:
        raise ValueError("bounds_against_k needs at least one model's estimates")
    ladders = [_checked(ladder) for ladder in ladders]
    columns = min(columns, len(ladders))
    rows = math.ceil(len(ladders) / columns)
    figure = Figure(figsize=(3.6 * columns + 0.4, 2.9 * rows + 1.3), layout="constrained")
    grid = figure.subplots(rows, columns, squeeze=False)
    for index, axes in enumerate(grid.flat):
        if index >= len(ladders):
            axes.set_visible(False)
            continue
        ladder = ladders[index]
        rungs = sorted((e for e in ladder.iwae if e.num_samples > 1), key=lambda e: e.num_samples)
        elbo = ladder.elbo
        axes.errorbar([1, *(e.num_samples for e in rungs)], [elbo.value, *(e.value for e in rungs)],
                      yerr=[elbo.stderr, *(e.stderr for e in rungs)], fmt="o-", color="C0",
                      capsize=3, label="IWAE-k ± 1 s.e.")
        axes.errorbar([1], [elbo.value], yerr=[elbo.stderr], fmt="x", color="C3",
                      markersize=9, mew=2, capsize=3, label="ELBO ± 1 s.e.")
        top = max(ladder.iwae, key=lambda e: e.num_samples)
        if ladder.exact is not None:
            axes.axhline(ladder.exact.value, color="k", linestyle=":", label="exact log p(x)")
            gap, gap_se = paired_difference(ladder.exact, top)
            said = f"log p(x) − IWAE-{top.num_samples}"
        else:
            gap, gap_se = paired_difference(top, elbo)
            said = f"IWAE-{top.num_samples} − ELBO"
        axes.text(0.03, 0.97, f"{said}\n= {gap:.3f} ± {gap_se:.3f} (paired)",
                  transform=axes.transAxes, va="top", fontsize="x-small")
        axes.set_xscale("log")
        axes.set_title(ladder.name, fontsize="small")
        axes.grid(True, which="major", alpha=0.3)
        if index % columns == 0:
            axes.set_ylabel("nats per datapoint")
        if index >= len(ladders) - columns:
            axes.set_xlabel("importance samples k")
        if index == 0:
            axes.legend(fontsize="x-small", loc="lower right")
    figure.suptitle(title or "ELBO ≤ IWAE-k ≤ log p(x): mean held-out log-likelihood")
    figure.supxlabel(textwrap.fill(NOTE, 40 * columns + 30), fontsize="x-small", ha="center")
    return figure
