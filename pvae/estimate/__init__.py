"""Likelihood estimates and diagnostics of a fitted pair, each a value with its error.

ELBO, IWAE-k and the exact log-likelihood (:mod:`~pvae.estimate.importance`), annealed
importance sampling and the BDMC sandwich (on the annealing core of :mod:`pvae.anneal`),
the gap decomposition, latent usage, holes in the latent space, paired comparisons of
estimates and a study's table of scores, and measures of generated samples. The evidence of
Bayesian models lives beside this package, in :mod:`pvae.bayes`.
"""

from ..anneal import Convergence, EvidenceWarning, RecordingWarning
from .ais import AISEstimate, ais, check_settings
from .bdmc import Sandwich, Simulated, bdmc, simulate
from .compare import Comparison, MixedEstimatesWarning, compare, comparison_table
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
from .sharpness import Sharpness, sharpness
from .table import ScoreRow, ScoreTable, score_table
from .usage import ACTIVE, LatentUsage, latent_usage

__all__ = [
    "AISEstimate", "Comparison", "Convergence", "Estimate",
    "ClassifierFeatures", "Fidelity", "classifier_features",
    "MixedEstimatesWarning", "Novelty", "ScoreRow", "ScoreTable", "Sharpness", "fidelity",
    "novelty", "sharpness",
    "EvidenceWarning", "Gaps", "Holes", "LatentUsage",
    "NonFiniteEstimateError", "RecordingWarning", "Sandwich", "Scores", "Simulated", "ais",
    "bdmc", "compare", "elbo", "exact", "gaps",
    "hole_distances", "holes", "iwae", "iwae_ladder", "latent_usage", "score", "score_table",
    "simulate",
    # for the application's reports
    "ACTIVE", "check_settings", "comparison_table",
]
