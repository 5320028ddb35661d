"""The ELBO and IWAE-k against k, beside the exact log-likelihood where there is one."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

from matplotlib.figure import Figure

from ..estimate import Estimate

__all__ = ["BoundLadder", "bounds_against_k"]


class BoundLadder(NamedTuple):
    """One model's estimates on one data set."""

    name: str
    elbo: Estimate
    iwae: Sequence[Estimate]
    exact: Estimate | None = None


def bounds_against_k(ladders: Sequence[BoundLadder], *, title: str = "",
                     columns: int = 4) -> Figure:
    """One panel per model: IWAE-k rising with k towards log p(x).

    In each panel the IWAE-k estimates are joined over a logarithmic k axis, the ELBO is a
    cross at k = 1 and, when the model has one, the exact log-likelihood is a dotted line
    that the bounds approach from below. Panels keep their own vertical scale (models differ
    by far more than their bounds do), so read the rise within a panel.
    """
    if not ladders:
        raise ValueError("bounds_against_k needs at least one model's estimates")
    columns = min(columns, len(ladders))
    rows = math.ceil(len(ladders) / columns)
    figure = Figure(figsize=(3.6 * columns, 2.9 * rows + 0.6), layout="constrained")
    grid = figure.subplots(rows, columns, squeeze=False)
    for index, axes in enumerate(grid.flat):
        if index >= len(ladders):
            axes.set_visible(False)
            continue
        ladder = ladders[index]
        ks = [estimate.num_samples for estimate in ladder.iwae]
        axes.plot(ks, [estimate.value for estimate in ladder.iwae], "o-", color="C0",
                  label="IWAE-k")
        axes.plot([1], [ladder.elbo.value], "x", color="C3", markersize=9, mew=2, label="ELBO")
        if ladder.exact is not None:
            axes.axhline(ladder.exact.value, color="k", linestyle=":", label="exact log p(x)")
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
    return figure
