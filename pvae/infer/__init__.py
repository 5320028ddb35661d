"""Inference: the SVI/EM training loop and the MCMC bridge to ArviZ."""

from .estimators import Estimate, Scores, elbo, exact, iwae, iwae_ladder, score
from .fit import OPTIMIZERS, fit, resolve_device
from .mcmc import mcmc, pointwise_log_likelihood
from .result import FitResult
from .svi import NonFiniteLossError, true_objective

__all__ = [
    "Estimate",
    "Scores",
    "elbo",
    "exact",
    "iwae",
    "iwae_ladder",
    "score",
    "OPTIMIZERS",
    "FitResult",
    "NonFiniteLossError",
    "fit",
    "mcmc",
    "pointwise_log_likelihood",
    "resolve_device",
    "true_objective",
]
