"""Choosing the number of mixture components: BIC and held-out log-likelihood."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

from .models import GaussianMixture
from .results import summarised
from .train import fit
from .validation import as_data

__all__ = ["ComponentChoice", "choose_components", "format_table"]


@summarised()
class ComponentChoice(NamedTuple):
    """One row of :func:`choose_components`: a K and how well it does."""

    k: int
    bic: float
    train_log_likelihood: float
    heldout_log_likelihood: float


def choose_components(
    train: Any, heldout: Any, ks: Iterable[int], *, covariance: str = "full",
    method: str = "em", n_init: int = 3, seed: int = 0, **fit_options: Any,
) -> list[ComponentChoice]:
    r"""Fit a mixture for every K and score it two ways.

    * BIC on the training data, :math:`-2\log p(x) + p\log N`: lower is better; the
      penalty stands in for the data the model has not seen.
    * The mean log-likelihood of held-out data, in nats per point: higher is better; it
      measures the unseen data directly.

    The training log-likelihood always rises with K; the other two columns turn.
    """
    x_train = as_data(train, event_dims=(1,), name="training data")
    x_heldout = as_data(heldout, event_dims=(1,), name="held-out data")
    rows = []
    for k in ks:
        mixture = GaussianMixture(k, covariance=covariance)
        fit(mixture, x_train, method=method, n_init=n_init, seed=seed, progress=False,
            **fit_options)
        rows.append(ComponentChoice(
            k=k,
            bic=mixture.bic(x_train),
            train_log_likelihood=float(mixture.log_likelihood(x_train).mean()),
            heldout_log_likelihood=float(mixture.log_likelihood(x_heldout).mean()),
        ))
    return rows


def format_table(rows: list[ComponentChoice]) -> str:
    """The rows as a markdown table, the best K by each criterion marked with ``*``."""
    best_bic = min(rows, key=lambda r: r.bic).k
    best_heldout = max(rows, key=lambda r: r.heldout_log_likelihood).k
    lines = ["| K | BIC | train log p(x) | held-out log p(x) |", "|---|---|---|---|"]
    for r in rows:
        lines.append(
            f"| {r.k} | {r.bic:.1f}{' *' if r.k == best_bic else ''} "
            f"| {r.train_log_likelihood:.4f} "
            f"| {r.heldout_log_likelihood:.4f}{' *' if r.k == best_heldout else ''} |"
        )
    return "\n".join(lines)
