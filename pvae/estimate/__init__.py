"""Likelihood estimates and diagnostics of a fitted pair, each a value with its error.

ELBO, IWAE-k and the exact log-likelihood (:mod:`~pvae.estimate.importance`), annealed
importance sampling and the BDMC sandwich, the gap decomposition, latent usage, holes in the
latent space, paired comparisons of estimates, and the evidence of any Pyro model
(:mod:`~pvae.estimate.evidence`).
"""

from .ais import AISEstimate, ais, check_settings
from .bdmc import Sandwich, Simulated, bdmc, simulate
from .compare import Comparison, compare, comparison_table
from .evidence import Evidence, EvidenceError, EvidenceSandwich, evidence, evidence_bdmc
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
from .usage import ACTIVE, LatentUsage, latent_usage

__all__ = [
    "AISEstimate", "Comparison", "Estimate", "Evidence", "EvidenceError", "EvidenceSandwich",
    "Gaps", "Holes", "LatentUsage", "NonFiniteEstimateError", "Sandwich", "Scores", "Simulated",
    "ais", "bdmc", "compare", "elbo", "evidence", "evidence_bdmc", "exact", "gaps",
    "hole_distances", "holes", "iwae", "iwae_ladder", "latent_usage", "score", "simulate",
    # for the application's reports
    "ACTIVE", "check_settings", "comparison_table",
]
