"""Inference: one SVI step core, the engines that run it, estimators, and MCMC for ArviZ."""

from .ais import AISEstimate, ais
from .bdmc import Sandwich, Simulated, bdmc, simulate
from .compare import Comparison, compare
from .convergence import ConvergenceWarning
from .divergence import DivergenceError, NonFiniteLossError
from .engine import Engine, engines
from .estimators import Estimate, Scores, elbo, exact, iwae, iwae_ladder, score
from .fit import fit, resolve_device
from .gaps import Gaps, gaps
from .holes import Holes, hole_distances, holes
from .mcmc import mcmc, pointwise_log_likelihood
from .plan import FitPlan
from .protocol import Pair, PairError
from .result import FitResult, History
from .schedule import DEFAULTS, OPTIMIZERS, Schedule, StepCore
from .terms import true_objective
from .usage import LatentUsage, latent_usage

__all__ = [
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
    "Simulated",
    "bdmc",
    "simulate",
    "AISEstimate",
    "ais",
    "ConvergenceWarning",
    "DEFAULTS",
    "DivergenceError",
    "Engine",
    "Estimate",
    "FitPlan",
    "FitResult",
    "History",
    "NonFiniteLossError",
    "OPTIMIZERS",
    "Schedule",
    "Scores",
    "StepCore",
    "elbo",
    "engines",
    "exact",
    "fit",
    "iwae",
    "iwae_ladder",
    "mcmc",
    "pointwise_log_likelihood",
    "resolve_device",
    "score",
    "true_objective",
]
