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
    ``exact`` (a model with an exact likelihood) is drawn dotted. Bars (and the bands around
    the lines) are ± one standard error over the simulated points: each bound is a Monte
    Carlo estimate, so at many temperatures the two can cross by noise.
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
    for bound, colour in (("upper", "C3"), ("lower", "C0")):
        axes.errorbar(steps, [getattr(run, bound).value for run in runs],
                      yerr=[getattr(run, bound).stderr for run in runs], fmt="none",
                      ecolor=colour, capsize=3)
    last = runs[-1]
    best = last.iwae[-1]
    for estimate, colour, style, label in ((last.elbo, "C1", "--", "ELBO"), (
            best, "C2", "-.", f"IWAE-{best.num_samples}")):
        axes.axhline(estimate.value, color=colour, linestyle=style, label=label)
        axes.axhspan(estimate.value - estimate.stderr, estimate.value + estimate.stderr,
                     color=colour, alpha=0.1)
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
    figure.supxlabel("Bars and bands: ± one standard error over the simulated points; each "
                     "bound is a Monte Carlo estimate,\nso the two can cross by noise once the "
                     "sandwich is narrower than its errors.", fontsize="x-small")
    return figure
