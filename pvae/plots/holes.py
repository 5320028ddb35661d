"""Holes in a 2-D latent space: the training codes over the prior's density."""

from __future__ import annotations

from collections.abc import Mapping

import torch
from matplotlib.figure import Figure

from ..estimate import Holes

__all__ = ["codes_over_prior"]


def codes_over_prior(holes: Mapping[str, Holes], *, shown: int = 400,
                     title: str = "Training codes over the prior") -> Figure:
    """One panel per model: the prior's density, the training codes, and draws in holes.

    The grey shading is the prior's density (a histogram of all its draws); dots are the
    codes the decoder was trained on (:attr:`Holes.codes`); crosses are ``shown`` of the
    prior draws, red where they fall in a hole (farther from every code than the codes'
    own spacing allows), blue where they do not. Each panel's title gives the share of
    prior draws in holes.
    """
    if not holes:
        raise ValueError("codes_over_prior needs at least one model's holes")
    for name, measured in holes.items():
        if measured.codes.dim() != 2 or measured.codes.shape[1] != 2:
            raise ValueError(f"{name}'s codes are {tuple(measured.codes.shape[1:])}-shaped; "
                             "this figure draws a 2-D latent space only")
    figure = Figure(figsize=(4.2 * len(holes), 4.4), layout="constrained")
    panels = figure.subplots(1, len(holes), squeeze=False)[0]
    for axes, (name, measured) in zip(panels, holes.items(), strict=True):
        draws, codes = measured.prior_draws.double(), measured.codes.double()
        limit = float(torch.quantile(draws.abs().flatten(), 0.995)) * 1.1
        axes.hist2d(draws[:, 0].numpy(), draws[:, 1].numpy(), bins=40, cmap="Greys",
                    range=[[-limit, limit], [-limit, limit]], alpha=0.7)
        axes.scatter(codes[:, 0].numpy(), codes[:, 1].numpy(), s=3, color="tab:orange",
                     alpha=0.5, label="training codes")
        in_hole = measured.prior.distance > measured.prior.threshold
        for mask, colour, label in ((~in_hole, "tab:blue", "prior draw near codes"),
                                    (in_hole, "tab:red", "prior draw in a hole")):
            chosen = torch.nonzero(mask[:shown]).flatten()
            axes.scatter(draws[chosen, 0].numpy(), draws[chosen, 1].numpy(), marker="x",
                         s=14, color=colour, label=label)
        axes.set_xlim(-limit, limit)
        axes.set_ylim(-limit, limit)
        axes.set_aspect("equal")
        axes.set_xlabel("z₁")
        axes.set_ylabel("z₂")
        axes.set_title(f"{name}: {measured.prior.share:.0%} of prior draws in holes",
                       fontsize="medium")
    panels[0].legend(loc="lower left", fontsize="x-small", framealpha=0.9)
    figure.suptitle(title)
    return figure
