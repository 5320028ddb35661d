"""The annealing core below both estimates of log p(x): AIS's chains, their potential, checks.

Annealed importance sampling runs the same way whether its latents are a VAE's codes, one
per datapoint (:func:`pvae.ais`, :func:`pvae.bdmc` in :mod:`pvae.estimate`), or a Bayesian
model's parameters, shared by the whole data set (:func:`pvae.evidence` in
:mod:`pvae.bayes`): both hand this package a potential, and it moves the chains, records
the potential where a replay can be trusted (:mod:`~pvae.anneal.recorded`) and checks
whether the run converged (:mod:`~pvae.anneal.convergence`).
"""

from .chains import (
    ADAPTATION,
    FIRST_STEP_SIZE,
    Chains,
    anneal,
    check_settings,
    effective_sample_size,
    log_mean_exp,
)
from .convergence import (
    TOLERANCE,
    Convergence,
    EvidenceWarning,
    drift,
    pooled,
    shorter,
    warn_unless,
)
from .recorded import RecordingWarning

__all__ = ["ADAPTATION", "FIRST_STEP_SIZE", "TOLERANCE", "Chains", "Convergence",
           "EvidenceWarning", "RecordingWarning", "anneal", "check_settings", "drift",
           "effective_sample_size", "log_mean_exp", "pooled", "shorter", "warn_unless"]
