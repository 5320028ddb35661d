"""Likelihood estimates and diagnostics of a fitted pair, each a value with its error.

ELBO, IWAE-k and the exact log-likelihood (:mod:`~pvae.estimate.importance`), annealed
importance sampling and the BDMC sandwich, the gap decomposition, latent usage, holes in the
latent space, paired comparisons of estimates, the evidence of any Pyro model
(:mod:`~pvae.estimate.evidence`) and Bayes factors between models
(:mod:`~pvae.estimate.bayes_factors`).
"""

from .ais import AISEstimate, ais, check_settings
from .bayes_factors import BayesFactor, bayes_factor_table, bayes_factors
from .bdmc import Sandwich, Simulated, bdmc, simulate
from .compare import Comparison, MixedEstimatesWarning, compare, comparison_table
from .convergence import Convergence
from .evidence import Evidence, EvidenceError, EvidenceWarning, evidence
from .evidence_sandwich import EvidenceSandwich, evidence_bdmc
from .features import ClassifierFeatures, classifier_features
from .fidelity import Fidelity, fidelity
from .gaps import Gaps, gaps
from .holes import Holes, hole_distances, holes
from .importance import (
    Estimate,
    NonFiniteEstimateError,
    Scores,
    elbo,
    exact,
    iwae,
    iwae_ladder,
    score,
)
from .novelty import Novelty, novelty
from .recorded import RecordingWarning
from .sharpness import Sharpness, sharpness
from .usage import ACTIVE, LatentUsage, latent_usage

__all__ = [
    "AISEstimate", "BayesFactor", "Comparison", "Convergence", "Estimate", "Evidence",
    "ClassifierFeatures", "EvidenceError", "Fidelity", "classifier_features",
    "MixedEstimatesWarning", "Novelty", "Sharpness", "fidelity",
    "novelty", "sharpness",
    "EvidenceSandwich", "EvidenceWarning", "Gaps", "Holes", "LatentUsage",
    "NonFiniteEstimateError", "RecordingWarning", "Sandwich", "Scores", "Simulated", "ais",
    "bayes_factors", "bdmc", "compare", "elbo", "evidence", "evidence_bdmc", "exact", "gaps",
    "hole_distances", "holes", "iwae", "iwae_ladder", "latent_usage", "score", "simulate",
    # for the application's reports
    "ACTIVE", "bayes_factor_table", "check_settings", "comparison_table",
]
