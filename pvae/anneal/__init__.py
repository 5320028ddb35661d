"""The annealing core below both estimates of log p(x): AIS's state, kernel and checks.

Annealed importance sampling runs the same way whether its latents are a pair's codes, one
per datapoint (:func:`pvae.ais`, :func:`pvae.bdmc` in :mod:`pvae.estimate`), or a Bayesian
model's latents, shared by the data set (:func:`pvae.evidence` in :mod:`pvae.bayes`): both
hand this package a :class:`Potential` (:mod:`~pvae.anneal.potential`). The chains are a
value, :class:`ChainState`, moved by one HMC kernel, :func:`hmc_move`, that returns the
new state and what happened (:mod:`~pvae.anneal.kernel`); the step size adapts outside it
(:mod:`~pvae.anneal.adaptation`); :func:`anneal` carries the chains along the temperatures
(:mod:`~pvae.anneal.run`), replaying the potential from a checked recording where one can
be trusted (:mod:`~pvae.anneal.recorded`), and :mod:`~pvae.anneal.convergence` says whether
a run converged.
"""

from .adaptation import ADAPTATION, FIRST_STEP_SIZE, adapt_step_size, first_step_size
from .convergence import (
    TOLERANCE,
    Convergence,
    EvidenceWarning,
    drift,
    pooled,
    shorter,
    warn_unless,
)
from .kernel import ChainState, MoveInfo, hmc_move, init
from .potential import Evaluate, Potential, energy_and_gradient
from .recorded import RecordedPotential, RecordingWarning
from .run import Annealing, anneal, check_settings, effective_sample_size, log_mean_exp

__all__ = ["ADAPTATION", "FIRST_STEP_SIZE", "TOLERANCE", "Annealing", "ChainState",
           "Convergence", "Evaluate", "EvidenceWarning", "MoveInfo", "Potential",
           "RecordedPotential", "RecordingWarning", "adapt_step_size", "anneal",
           "check_settings", "drift", "effective_sample_size", "energy_and_gradient",
           "first_step_size", "hmc_move", "init", "log_mean_exp", "pooled", "shorter",
           "warn_unless"]
