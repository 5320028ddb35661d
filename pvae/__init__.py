"""pvae: maximum likelihood, the ELBO and VAEs as Pyro model/guide pairs.

Every model is a Pyro model/guide pair: import it, fit it with :func:`fit` (or with plain
``pyro.infer.SVI``), and score it on held-out data.
"""

from . import engines  # registers the engines above inference (Lightning) by name
from .infer import (
    AISEstimate,
    Comparison,
    ConvergenceWarning,
    DivergenceError,
    Estimate,
    FitResult,
    Gaps,
    Holes,
    LatentUsage,
    NonFiniteLossError,
    Pair,
    PairError,
    Sandwich,
    Scores,
    ais,
    bdmc,
    compare,
    elbo,
    exact,
    fit,
    gaps,
    hole_distances,
    holes,
    iwae,
    iwae_ladder,
    latent_usage,
    mcmc,
    score,
)
from .models import VAE, BayesianGaussian, Gaussian, GaussianMixture, LinearGaussian
from .objectives.lean import EagerPathWarning, LeanTrace_ELBO
from .registry import Registry, UnknownNameError
from .selection import ComponentChoice, choose_components
from .validation import DataError

__all__ = [
    "EagerPathWarning",
    "LeanTrace_ELBO",
    "Holes",
    "hole_distances",
    "holes",
    "Pair",
    "PairError",
    "Comparison",
    "Gaps",
    "LatentUsage",
    "compare",
    "gaps",
    "latent_usage",
    "Sandwich",
    "bdmc",
    "AISEstimate",
    "ais",
    "ConvergenceWarning",
    "DivergenceError",
    "Estimate",
    "LinearGaussian",
    "Scores",
    "elbo",
    "exact",
    "iwae",
    "iwae_ladder",
    "score",
    "VAE",
    "BayesianGaussian",
    "ComponentChoice",
    "DataError",
    "FitResult",
    "Gaussian",
    "GaussianMixture",
    "NonFiniteLossError",
    "Registry",
    "UnknownNameError",
    "choose_components",
    "engines",
    "fit",
    "mcmc",
]
__version__ = "0.1.0"
