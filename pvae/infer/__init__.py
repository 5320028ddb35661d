"""Inference: the SVI/EM training loop and the MCMC bridge to ArviZ."""

from .fit import OPTIMIZERS, fit, resolve_device
from .mcmc import mcmc, pointwise_log_likelihood
from .result import FitResult
from .svi import NonFiniteLossError, true_objective

__all__ = [
    "OPTIMIZERS",
    "FitResult",
    "NonFiniteLossError",
    "fit",
    "mcmc",
    "pointwise_log_likelihood",
    "resolve_device",
    "true_objective",
]
