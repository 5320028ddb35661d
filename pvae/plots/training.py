"""Training curves: the ELBO and its two terms, reconstruction and KL, per epoch."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ..train import History

__all__ = ["training_curves"]


def training_curves(history: History | Mapping[str, Any], *,
                    title: str = "Training: ELBO = reconstruction − KL") -> Figure:
    """Three panels over epochs: the ELBO, the reconstruction term and the KL term.

    Parameters
    ----------
    history : History or mapping
        A :class:`~pvae.train.result.History` (``fit(...).history``, a checkpoint's), or
        the same curves by name: ``epoch`` and any of ``loss`` (the training objective,
        nats per datapoint, as ``fit`` reports it: minus the ELBO), ``validation`` (the same
        on held-out data), ``reconstruction`` and ``kl`` (nats per datapoint, from
        :func:`pvae.pair.terms.elbo_terms`).
    """
    curves = history if isinstance(history, History) else History.from_dict(dict(history))
    epochs = list(curves.epoch)
    if not epochs:
        raise ValueError("training_curves needs a history with at least one epoch")
    dot = "o-" if len(epochs) <= 40 else "-"  # markers only while they can be told apart
    figure = Figure(figsize=(11, 3.3), layout="constrained")
    elbo_axes, reconstruction_axes, kl_axes = figure.subplots(1, 3)
    if curves.loss:
        elbo_axes.plot(epochs, [-v for v in curves.loss], dot, label="training (mean "
                       "of the epoch's steps)")
    if curves.validation:
        elbo_axes.plot(epochs, [-v for v in curves.validation], dot, label="validation")
    elbo_axes.set_title("ELBO")
    if elbo_axes.lines:
        elbo_axes.legend(fontsize="x-small")
    if curves.reconstruction:
        reconstruction_axes.plot(epochs, curves.reconstruction, dot, color="C2")
    reconstruction_axes.set_title(r"reconstruction $\mathbb{E}_q[\log p(x \mid z)]$")
    if curves.kl:
        kl_axes.plot(epochs, curves.kl, dot, color="C3")
    kl_axes.set_title(r"KL$(q(z \mid x)\,\|\,p(z))$")
    for axes in (elbo_axes, reconstruction_axes, kl_axes):
        axes.set_xlabel("epoch")
        axes.set_ylabel("nats per datapoint")
        axes.grid(True, alpha=0.3)
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    figure.suptitle(title)
    return figure
