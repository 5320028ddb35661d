"""Where the gap comes from, and which latent dimensions carry information."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import torch
from matplotlib.figure import Figure

from ..estimate import ACTIVE, Estimate, Gaps, LatentUsage

__all__ = ["gap_bars", "latent_usage"]


def gap_bars(models: Mapping[str, Gaps], *,
             iwae: Mapping[str, Sequence[Estimate]] | None = None, title: str = "") -> Figure:
    """One stacked bar per model: how many nats below log p(x) its ELBO is, and why.

    The top segment is the approximation gap (what the guide's family cannot express), the
    bottom one the amortisation gap (what the encoder loses against a q fitted to each
    datapoint). Markers give each IWAE-k of ``iwae[name]`` on the same scale. Bars are ± one
    standard error over the datapoints: at the boundary, of the approximation gap; at the
    bottom, of the whole gap log p(x) − ELBO; at each marker, of log p(x) − IWAE-k (paired,
    when both are on the same datapoints).
    """
    if not models:
        raise ValueError("gap_bars needs at least one model's gaps")
    names = list(models)
    figure = Figure(figsize=(1.8 * len(names) + 3.2, 4.4), layout="constrained")
    axes = figure.subplots()
    positions = np.arange(len(names))
    approximation = [models[n].approximation.value for n in names]
    amortization = [models[n].amortization.value for n in names]
    total = [models[n].approximation.per_datapoint.double()
             + models[n].amortization.per_datapoint.double() for n in names]
    axes.bar(positions, approximation, 0.55, color="C0", label="approximation gap",
             yerr=[models[n].approximation.stderr for n in names], capsize=4,
             error_kw={"ecolor": "0.2"})
    axes.bar(positions, amortization, 0.55, bottom=approximation, color="C1",
             label="amortisation gap", yerr=[_stderr(gap) for gap in total], capsize=4,
             error_kw={"ecolor": "0.2"})
    shapes = "os^Dv"
    for index, name in enumerate(names):
        best = models[name].log_likelihood
        for rung, estimate in enumerate((iwae or {}).get(name, ())):
            paired = len(best.per_datapoint) == len(estimate.per_datapoint)
            spread = _stderr(best.per_datapoint.double() - estimate.per_datapoint.double()
                             ) if paired else estimate.stderr
            axes.plot(index + 0.38, best.value - estimate.value, shapes[rung % len(shapes)],
                      color="k", markersize=5,
                      label=estimate.name.upper() if index == 0 else None)
            axes.errorbar(index + 0.38, best.value - estimate.value, yerr=spread, fmt="none",
                          ecolor="k", capsize=2)
    axes.set_xticks(positions, [f"{n}\n(log p from {models[n].log_likelihood.name})"
                                for n in names], fontsize="small")
    axes.invert_yaxis()  # log p(x) at the top, the ELBO below it
    axes.set_ylabel("nats per datapoint below log p(x)")
    axes.grid(True, axis="y", alpha=0.3)
    axes.legend(fontsize="x-small", loc="lower right")
    axes.set_title(title or "log p(x) − ELBO = approximation gap + amortisation gap "
                   "(bars: ± 1 s.e.)", fontsize="medium")
    return figure


def _stderr(values: torch.Tensor) -> float:
    """The standard error of the mean of ``values``."""
    return float(values.std()) / math.sqrt(len(values)) if len(values) > 1 else 0.0


def latent_usage(usage: LatentUsage, *, title: str = "") -> Figure:
    """The KL per latent dimension (active ones dark) beside each dimension's activity."""
    activity = usage.activity.numpy()
    order = np.argsort(-activity)
    dims = np.arange(len(activity))
    active = activity[order] > ACTIVE
    figure = Figure(figsize=(10, 3.6), layout="constrained")
    kl_axes, activity_axes = figure.subplots(1, 2)
    colours = np.where(active, "C0", "#bbbbbb")
    if usage.kl_per_dim is not None:
        kl_axes.bar(dims, usage.kl_per_dim.numpy()[order], color=colours)
        kl_axes.set_ylabel("KL(q(z_d | x) ‖ p(z_d)), nats")
    else:
        kl_axes.text(0.5, 0.5, usage.note.split(";")[1].strip(), ha="center", va="center",
                     wrap=True, transform=kl_axes.transAxes, fontsize="small")
    kl_axes.set_title(f"KL {usage.kl:.2f} = information {usage.mutual_information:.2f} + "
                      f"marginal KL {usage.marginal_kl:.2f} nats", fontsize="small")
    activity_axes.bar(dims, activity[order], color=colours)
    activity_axes.axhline(ACTIVE, color="C3", linestyle="--", label=f"active above {ACTIVE}")
    activity_axes.set_yscale("log")
    activity_axes.set_ylabel("activity Cov_x(E_q[z_d])")
    activity_axes.set_title(f"{usage.active_units} of {len(activity)} units active",
                            fontsize="small")
    activity_axes.legend(fontsize="x-small")
    for axes in (kl_axes, activity_axes):
        axes.set_xlabel("latent dimension (most active first)")
        axes.set_xticks(dims, [str(d) for d in order], fontsize="x-small")
    figure.suptitle(title or "What the KL term pays for")
    return figure
