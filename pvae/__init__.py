"""pvae: maximum likelihood, the ELBO and VAEs as Pyro model/guide pairs.

Every model is a Pyro model/guide pair: import it, fit it with :func:`fit` (or with plain
``pyro.infer.SVI``), and score it on held-out data. The names below are the table of
contents; each lives in its package (:mod:`pvae.models`, :mod:`pvae.train`,
:mod:`pvae.estimate`, :mod:`pvae.mcmc`, :mod:`pvae.pair`, :mod:`pvae.objectives`), and so do
the registries (``pvae.priors.priors``, ``pvae.train.engines.engines``, ...) and
:class:`pvae.registry.Registry`.
"""

# estimates of log p(x), and what they say
from .estimate import (
    AISEstimate,
    Comparison,
    Estimate,
    Gaps,
    Holes,
    LatentUsage,
    NonFiniteEstimateError,
    Sandwich,
    Scores,
    ais,
    bdmc,
    compare,
    elbo,
    exact,
    gaps,
    hole_distances,
    holes,
    iwae,
    iwae_ladder,
    latent_usage,
    score,
)

# posterior sampling
from .mcmc import mcmc

# the models
from .models import VAE, BayesianGaussian, Gaussian, GaussianMixture, LinearGaussian

# the objectives' fast path
from .objectives import EagerPathWarning, LeanTrace_ELBO

# errors and warnings
from .pair import Pair, PairError
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
    "fit", "FitResult",
    # estimates
    "elbo", "iwae", "iwae_ladder", "exact", "score", "Estimate", "Scores", "ais",
    "AISEstimate", "bdmc", "Sandwich", "gaps", "Gaps", "latent_usage", "LatentUsage", "holes",
    "hole_distances", "Holes", "compare", "Comparison",
    # posterior sampling
    "mcmc",
    # the fast path
    "LeanTrace_ELBO", "EagerPathWarning",
    # errors and warnings
    "DataError", "PairError", "UnknownNameError", "DivergenceError", "NonFiniteLossError",
    "NonFiniteEstimateError",
    "ConvergenceWarning",
]
__version__ = "0.1.0"
