r"""The results of a study: several models' best estimates on the same data, in one table.

Each model is scored by the best estimate it has: its exact log-likelihood where it has one,
else the largest importance-weighted bound :math:`\mathcal L_k` of :func:`~pvae.score`
(:math:`\mathrm{ELBO} \le \mathcal L_k \le \log p(x)`, tighter as :math:`k` grows). The rows
are ranked and differenced against the best by :func:`~pvae.compare`: the paired standard
error over the same images, :math:`z` and the two-sided p-value (normal approximation), and,
for a model given as several fits from different training seeds, the between-seed spread.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from ..pair import exact_log_likelihood
from ..results import summarised
from .compare import MixedEstimatesWarning, compare
from .importance import Estimate, checked_ks, exact, iwae, prepare

__all__ = ["ScoreRow", "ScoreTable", "score_table"]


@summarised()
class ScoreRow(NamedTuple):
    """One model's line of a :class:`ScoreTable`, in nats per datapoint."""

    model: str
    estimator: str
    value: float
    stderr: float
    difference: float
    difference_stderr: float
    z: float
    p_value: float
    seeds: int
    seed_spread: float


@dataclass(frozen=True)
class ScoreTable:
    """Several models' estimates, best first, with their differences from the best.

    Attributes
    ----------
    rows : tuple of ScoreRow
        One row per model, best first: a plain data structure to build other tables from.
    estimates : dict of str to Estimate
        Each model's estimate (pooled over its seeds), with its per-datapoint values.
    """

    rows: tuple[ScoreRow, ...]
    estimates: dict[str, Estimate]

    def markdown(self) -> str:
        """The table in markdown; the seed columns appear when some model has several seeds."""
        seeded = any(row.seeds > 1 for row in self.rows)
        head = ["model", "estimator", "log p(x)", "s.e.", "difference from best",
                "paired s.e.", "z", "p"] + (["seeds", "between-seed sd"] if seeded else [])
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for row in self.rows:
            cells = [row.model, row.estimator, f"{row.value:.3f}", f"{row.stderr:.3f}",
                     f"{row.difference:.3f}", f"{row.difference_stderr:.3f}", f"{row.z:.2f}",
                     f"{row.p_value:.3g}"]
            if seeded:
                cells += [str(row.seeds), f"{row.seed_spread:.3f}"]
            lines.append("| " + " | ".join(cells) + " |")
        if len({row.estimator for row in self.rows}) > 1:
            lines.append("\nThe estimators differ: a bound's difference from an exact value "
                         "is partly the bound's gap.")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.markdown()


def score_table(models: Mapping[str, Any], x: Any, *, ks: Sequence[int] = (1000,),
                seed: int | None = 0, batch_size: int = 100, progress: bool = True
                ) -> ScoreTable:
    r"""Score several fitted models on the same data and rank them in one table.

    Parameters
    ----------
    models : dict of str to pair or list of pairs
        Each model's fitted pair, or a list of pairs fitted from different training seeds
        (pooled: the mean over seeds per datapoint, and the between-seed spread).
    x : tensor
        The held-out data, the same rows for every model (that is what pairs the differences).
    ks : sequence of int
        The numbers of importance samples for :func:`~pvae.score`; a model without an exact
        likelihood is scored by IWAE with the largest.
    seed : int, optional
        Every model's draws come from this seed (the same numbers to the bit on a rerun);
        ``None`` draws from the global generators.
    batch_size, progress
        As :func:`~pvae.iwae_ladder`'s.

    Returns
    -------
    ScoreTable
        ``.rows`` (best first), ``.markdown()`` (also ``str(table)``).

    Notes
    -----
    Where an exact model meets a bound, the difference is partly the bound's gap
    :math:`\log p(x) - \mathcal L_k \ge 0`; the table names each estimator and says so.
    """
    if not isinstance(models, Mapping):
        raise TypeError("score_table takes a dict of model name -> fitted pair (or list of "
                        f"pairs, one per training seed); got {type(models).__name__}")
    if len(models) < 2:
        raise ValueError(f"score_table needs at least two models to compare; got {len(models)}")
    ks = checked_ks(ks)
    estimates: dict[str, list[Estimate]] = {}
    for name, given in models.items():
        pairs = list(given) if isinstance(given, list | tuple) else [given]
        if not pairs:
            raise ValueError(f"model {name!r} has no fitted pairs: give a pair, or one per seed")
        for pair in pairs:
            if not (callable(getattr(pair, "model", None)) and callable(getattr(pair, "guide",
                                                                               None))):
                raise TypeError(f"model {name!r} is not a fitted pair (an object with model and "
                                f"guide, such as pvae.VAE); got {type(pair).__name__}")
        estimates[name] = [_best(pair, x, ks, seed, batch_size, progress) for pair in pairs]
    with warnings.catch_warnings():  # the table names each estimator and warns in words
        warnings.simplefilter("ignore", MixedEstimatesWarning)
        compared = compare(estimates)
    rows = tuple(ScoreRow(row.name, row.estimate.name, row.estimate.value, row.estimate.stderr,
                          row.difference, row.difference_stderr, row.z, row.p_value, row.seeds,
                          row.seed_spread) for row in compared)
    return ScoreTable(rows, {row.name: row.estimate for row in compared})


def _best(pair: Any, x: Any, ks: list[int], seed: int | None, batch_size: int,
          progress: bool) -> Estimate:
    """The exact log-likelihood where the pair has one, else IWAE with the largest ``k``.

    IWAE-``k`` alone draws what :func:`~pvae.score`'s largest rung draws with the same seed.
    """
    if exact_log_likelihood(pair) is not None:
        return exact(pair, prepare(pair, x))
    return iwae(pair, x, ks[-1], seed=seed, batch_size=batch_size, progress=progress)
