"""Training curves: the ELBO and its two terms, reconstruction and KL, per epoch."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

__all__ = ["training_curves"]


def training_curves(history: Mapping[str, Sequence[float]], *,
                    title: str = "Training: ELBO = reconstruction − KL") -> Figure:
    """Three panels over epochs: the ELBO, the reconstruction term and the KL term.

    Parameters
    ----------
    history : mapping
        ``epoch`` and any of ``loss`` (the training objective, nats per datapoint, as
        ``fit`` reports it: minus the ELBO), ``validation`` (the same on held-out data),
        ``reconstruction`` and ``kl`` (nats per datapoint, from
        :func:`pvae.infer.terms.elbo_terms`), as ``pvae train`` records them.
    """
    epochs = list(history.get("epoch", []))
    if not epochs:
        raise ValueError("training_curves needs a history with at least one epoch")
    dot = "o-" if len(epochs) <= 40 else "-"  # markers only while they can be told apart
    figure = Figure(figsize=(11, 3.3), layout="constrained")
    elbo_axes, reconstruction_axes, kl_axes = figure.subplots(1, 3)
    if history.get("loss"):
        elbo_axes.plot(epochs, [-v for v in history["loss"]], dot, label="training (mean "
                       "of the epoch's steps)")
    if history.get("validation"):
        elbo_axes.plot(epochs, [-v for v in history["validation"]], dot,
                       label="validation")
    elbo_axes.set_title("ELBO")
    elbo_axes.legend(fontsize="x-small")
    if history.get("reconstruction"):
        reconstruction_axes.plot(epochs, history["reconstruction"], dot, color="C2")
    reconstruction_axes.set_title(r"reconstruction $\mathbb{E}_q[\log p(x \mid z)]$")
    if history.get("kl"):
        kl_axes.plot(epochs, history["kl"], dot, color="C3")
    kl_axes.set_title(r"KL$(q(z \mid x)\,\|\,p(z))$")
    for axes in (elbo_axes, reconstruction_axes, kl_axes):
        axes.set_xlabel("epoch")
        axes.set_ylabel("nats per datapoint")
        axes.grid(True, alpha=0.3)
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    figure.suptitle(title)
    return figure
