"""The BDMC sandwich against the number of AIS temperatures, closing on log p(x)."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

from matplotlib.figure import Figure

from ..estimate import Sandwich

__all__ = ["sandwich"]


def sandwich(runs: Sequence[Sandwich], *, exact: float | None = None,
             title: str = "") -> Figure:
    """Forward and reverse AIS against the number of temperatures, on one simulated set.

    Each element of ``runs`` is :func:`pvae.bdmc` on the same simulated data (the same
    seed) with a different number of steps. The lower bounds rise and the upper bounds fall
    towards log p(x) as the temperatures grow (log axis); the ELBO and the largest IWAE-k on
    the same data are horizontal lines, so their bias in nats is read against the sandwich.
    ``exact`` (a model with an exact likelihood) is drawn dotted.
    """
    if not runs:
        raise ValueError("sandwich needs at least one pvae.bdmc result")
    runs = sorted(runs, key=lambda run: int(run.lower.name.rsplit("-", 1)[1]))
    steps = [int(run.lower.name.rsplit("-", 1)[1]) for run in runs]
    figure = Figure(figsize=(7, 4.2), layout="constrained")
    axes = figure.subplots()
    lower = [run.lower.value for run in runs]
    upper = [run.upper.value for run in runs]
    axes.fill_between(steps, lower, upper, color="C0", alpha=0.15, label="the sandwich")
    axes.plot(steps, upper, "v-", color="C3", label="upper bound: reverse AIS from exact codes")
    axes.plot(steps, lower, "^-", color="C0", label="lower bound: forward AIS")
    last = runs[-1]
    axes.axhline(last.elbo.value, color="C1", linestyle="--", label="ELBO")
    best = last.iwae[-1]
    axes.axhline(best.value, color="C2", linestyle="-.", label=f"IWAE-{best.num_samples}")
    if exact is not None:
        axes.axhline(exact, color="k", linestyle=":", label="exact log p(x)")
    axes.set_xscale("log")
    axes.set_xlabel("AIS temperatures (steps)")
    axes.set_ylabel("nats per datapoint")
    axes.grid(True, which="major", alpha=0.3)
    axes.legend(fontsize="x-small", loc="lower right")
    points = len(last.data.x)
    axes.set_title(textwrap.fill(title or f"log p(x) between two bounds on {points} points "
                                          "simulated from the model", 80), fontsize="medium")
    return figure
