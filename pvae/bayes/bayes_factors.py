r"""Model comparison by evidence: log Bayes factors with their standard errors.

The Bayes factor of model :math:`M_1` over :math:`M_2` on data :math:`x` is the ratio of
their evidences,

.. math:: \log \mathrm{BF}_{12} = \log p(x \mid M_1) - \log p(x \mid M_2),

and it turns prior odds between the models into posterior odds. Each evidence comes from its
own AIS chains (:func:`~pvae.bayes.evidence`), so the two errors are independent
and the standard error of the difference is :math:`\sqrt{s_1^2 + s_2^2}`.

Unlike leave-one-out cross-validation (``az.loo``, ``az.compare``), which scores how well the
posterior predicts held-out points, the evidence averages the likelihood over the *prior*:
a prior far wider than the data need costs evidence (the Occam factor) while it leaves the
posterior, and so LOO, almost unchanged.
"""

from __future__ import annotations

import inspect
import math
import warnings
from collections.abc import Mapping
from typing import Any, NamedTuple

from ..anneal import EvidenceWarning
from ..results import summarised
from ..validation import check_bool
from .ais import Evidence, EvidenceError, checked_settings, evidence

__all__ = ["BayesFactor", "bayes_factor_table", "bayes_factors"]


@summarised("z")
class BayesFactor(NamedTuple):
    """One model's row: its evidence and its log Bayes factor against the best model."""

    name: str
    evidence: Evidence
    log_bayes_factor: float
    stderr: float

    @property
    def z(self) -> float:
        """The log Bayes factor in standard errors (0 for the best model)."""
        return self.log_bayes_factor / self.stderr if self.stderr else 0.0


def bayes_factors(models: Mapping[str, Any], x: Any, *, guides: Mapping[str, Any] | None = None,
                  **settings: Any) -> list[BayesFactor]:
    r"""Rank models of the same data by their evidence, best first.

    Parameters
    ----------
    models : dict
        Model name -> a Pyro model ``model(x)`` or a pvae model with a ``model`` method (such
        as :class:`~pvae.models.BayesianGaussian`).
    x : Tensor or array-like
        The data every model observes.
    guides : dict, optional
        Model name -> a guide fitted to that model, to start its chains from (see
        :func:`~pvae.bayes.evidence`); far fewer steps suffice, and a vague prior
        needs one. Models without an entry start from their prior.
    **settings
        Passed to :func:`~pvae.bayes.evidence` for every model (``steps``,
        ``chains``, ``seed``, ``check_convergence``, ...): each model's estimate is checked
        for convergence, and one that has not converged is an :class:`EvidenceWarning`
        naming the model (a Bayes factor is no better than its two evidences).

    Returns
    -------
    list of BayesFactor
        Best first; each row's :math:`\log \mathrm{BF}` against the best (``<= 0``, nats for
        the whole data set) and its standard error. By Jeffreys' scale a difference beyond
        :math:`\log 10 \approx 2.3` nats is strong, beyond :math:`\log 100 \approx 4.6`
        decisive.

    Raises
    ------
    ValueError
        With fewer than two models, or a setting :func:`evidence` does not take.
    """
    if not isinstance(models, Mapping):
        raise TypeError("bayes_factors takes a dict of model name -> model; got "
                        f"{type(models).__name__}")
    if len(models) < 2:
        raise ValueError("bayes_factors needs at least two models to compare")
    unknown = set(settings) - {"steps", "chains", "leapfrog", "target_acceptance", "seed",
                               "progress", "check_convergence"}
    if unknown:
        raise ValueError(f"bayes_factors does not take {sorted(unknown)}; it passes steps, "
                         "chains, leapfrog, target_acceptance, seed, progress and "
                         "check_convergence to evidence")
    _check_shared(settings)
    guides = {} if guides is None else guides
    if not isinstance(guides, Mapping) or set(guides) - set(models):
        raise ValueError("guides must be a dict from some of the models' names to their "
                         f"guides; got {sorted(guides) if isinstance(guides, Mapping) else guides}"
                         f" for the models {sorted(models)}")
    names = [str(name) for name in models]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(f"two models share the name {', '.join(map(repr, repeated))} once "
                         "written as text (as 1 and \"1\" do): give every model a distinct name")
    estimates = {str(name): _evidence_of(name, model, x, guides.get(name), settings)
                 for name, model in models.items()}
    ranked = sorted(estimates.items(), key=lambda item: -item[1].value)
    best = ranked[0][1]
    return [BayesFactor(name, estimate, estimate.value - best.value,
                        0.0 if estimate is best else math.hypot(estimate.stderr, best.stderr))
            for name, estimate in ranked]


def _check_shared(settings: dict[str, Any]) -> None:
    """The settings every model shares, checked once before any model runs."""
    defaults = {name: parameter.default for name, parameter
                in inspect.signature(evidence).parameters.items()
                if parameter.kind is inspect.Parameter.KEYWORD_ONLY}
    given = {**defaults, **settings}
    checked_settings(given["steps"], given["chains"], given["leapfrog"],
                     given["target_acceptance"], given["progress"], given["seed"])
    check_bool(given["check_convergence"], "check_convergence")


def _evidence_of(name: Any, model: Any, x: Any, guide: Any, settings: dict[str, Any]
                 ) -> Evidence:
    """One model's evidence; an error or an :class:`EvidenceWarning` it raises names the model."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            estimate = evidence(model, x, guide=guide, **settings)
        except (EvidenceError, TypeError, ValueError) as error:
            raise type(error)(f"model {str(name)!r}: {error}") from error
    for warning in caught:  # said again, from here, the evidence's own with the model's name
        if issubclass(warning.category, EvidenceWarning):
            warnings.warn(f"model {str(name)!r}: {warning.message}", EvidenceWarning,
                          stacklevel=3)
        else:
            warnings.warn_explicit(warning.message, warning.category, warning.filename,
                                   warning.lineno)
    return estimate


def bayes_factor_table(rows: list[BayesFactor]) -> str:
    """The comparison as a markdown table (nats for the whole data set)."""
    lines = ["| model | log evidence | s.e. | log BF vs best | s.e. |", "|---|---|---|---|---|"]
    lines += [f"| {row.name} | {row.evidence.value:.3f} | {row.evidence.stderr:.3f} | "
              f"{row.log_bayes_factor:.3f} | {row.stderr:.3f} |" for row in rows]
    return "\n".join(lines)
