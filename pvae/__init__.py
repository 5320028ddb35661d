"""pvae: maximum likelihood, the ELBO and VAEs as Pyro model/guide pairs.

Every model is a Pyro model/guide pair: import it, fit it with :func:`fit` (or with plain
``pyro.infer.SVI``), and score it on held-out data. The names below are the table of
contents; each lives in its package (:mod:`pvae.models`, :mod:`pvae.train`,
:mod:`pvae.estimate`, :mod:`pvae.posterior`, :mod:`pvae.pair`, :mod:`pvae.objectives`), and so do
the registries (``pvae.priors.priors``, ``pvae.train.engines.engines``, ...) and
:class:`pvae.registry.Registry`.

Each name is imported from its package when first used, so that ``import pvae`` (and the
``pvae`` command's ``--help``) does not load torch, Pyro and ArviZ before they are needed.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # what the names below are, for type checkers and editors
    # estimates of log p(x), and what they say
    # a trained model from its checkpoint
    from .checkpoint import load, save
    from .estimate import (
        AISEstimate,
        BayesFactor,
        Comparison,
        Estimate,
        Evidence,
        EvidenceError,
        EvidenceSandwich,
        EvidenceWarning,
        Fidelity,
        Gaps,
        Holes,
        LatentUsage,
        MixedEstimatesWarning,
        NonFiniteEstimateError,
        Novelty,
        RecordingWarning,
        Sandwich,
        Scores,
        Sharpness,
        ais,
        bayes_factors,
        bdmc,
        compare,
        elbo,
        evidence,
        evidence_bdmc,
        exact,
        fidelity,
        gaps,
        hole_distances,
        holes,
        iwae,
        iwae_ladder,
        latent_usage,
        novelty,
        score,
        sharpness,
    )

    # the models
    from .models import VAE, BayesianGaussian, Gaussian, GaussianMixture, LinearGaussian

    # the objectives' fast path
    from .objectives import EagerPathWarning, LeanTrace_ELBO

    # errors and warnings
    from .pair import Pair, PairError

    # posterior sampling
    from .posterior import mcmc
    from .registry import UnknownNameError
    from .selection import ComponentChoice, choose_components

    # fitting
    from .train import ConvergenceWarning, DivergenceError, FitResult, NonFiniteLossError, fit
    from .validation import DataError

__all__ = [
    # models
    "VAE", "BayesianGaussian", "Gaussian", "GaussianMixture", "LinearGaussian", "Pair",
    "ComponentChoice", "choose_components",
    # fitting
    "fit", "FitResult", "load", "save",
    # estimates
    "elbo", "iwae", "iwae_ladder", "exact", "score", "Estimate", "Scores", "ais",
    "AISEstimate", "bdmc", "Sandwich", "gaps", "Gaps", "latent_usage", "LatentUsage", "holes",
    "evidence", "Evidence", "evidence_bdmc", "EvidenceSandwich", "bayes_factors", "BayesFactor",
    "hole_distances", "Holes", "compare", "Comparison", "novelty", "Novelty",
    "fidelity", "Fidelity", "sharpness", "Sharpness",
    # posterior sampling
    "mcmc",
    # the fast path
    "LeanTrace_ELBO", "EagerPathWarning",
    # errors and warnings
    "DataError", "PairError", "UnknownNameError", "DivergenceError", "NonFiniteLossError",
    "NonFiniteEstimateError", "EvidenceError", "EvidenceWarning", "RecordingWarning",
    "MixedEstimatesWarning",
    "ConvergenceWarning",
]
#: where each name of the table of contents lives
CONTENTS = {
    "estimate": ["AISEstimate", "BayesFactor", "Comparison", "Estimate", "Evidence",
                 "EvidenceError", "EvidenceSandwich", "EvidenceWarning", "Gaps", "Holes",
                 "LatentUsage", "MixedEstimatesWarning", "NonFiniteEstimateError",
                 "Fidelity", "Novelty", "RecordingWarning", "Sandwich", "Scores", "Sharpness",
                 "ais",
                 "bayes_factors", "bdmc", "compare", "elbo", "evidence", "evidence_bdmc", "exact",
                 "gaps", "hole_distances", "holes", "iwae", "iwae_ladder", "latent_usage",
                 "fidelity", "novelty", "score", "sharpness"],
    "checkpoint": ["load", "save"],
    "posterior": ["mcmc"],
    "models": ["VAE", "BayesianGaussian", "Gaussian", "GaussianMixture", "LinearGaussian"],
    "objectives": ["EagerPathWarning", "LeanTrace_ELBO"],
    "pair": ["Pair", "PairError"],
    "registry": ["UnknownNameError"],
    "selection": ["ComponentChoice", "choose_components"],
    "train": ["ConvergenceWarning", "DivergenceError", "FitResult", "NonFiniteLossError", "fit"],
    "validation": ["DataError"],
}
_HOME = {name: package for package, names in CONTENTS.items() for name in names}


def __getattr__(name: str) -> Any:
    """A name of the table of contents, or a subpackage, imported on first use."""
    if name in _HOME:
        value = getattr(importlib.import_module(f"{__name__}.{_HOME[name]}"), name)
        globals()[name] = value
        return value
    try:
        return importlib.import_module(f"{__name__}.{name}")
    except ModuleNotFoundError as error:
        if error.name != f"{__name__}.{name}":
            raise
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


__version__ = "0.1.0"
