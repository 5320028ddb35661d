r"""The evidence of Bayesian models, :math:`\log p(x)`, and model comparison by it.

:func:`evidence` anneals any Pyro model's latents, global ones included, from their prior
(or a fitted guide) to their posterior (:mod:`~pvae.bayes.ais`, on the annealing core of
:mod:`pvae.anneal`); global discrete latents are summed out (:mod:`~pvae.bayes.discrete`);
a model that does not broadcast over the chains runs them one by one
(:mod:`~pvae.bayes.chains`); :func:`evidence_bdmc` sandwiches it on simulated data
(:mod:`~pvae.bayes.sandwich`);
:func:`bridge_sampling` takes it from posterior draws instead (:mod:`~pvae.bayes.bridge`);
:func:`bayes_factors` ranks models by it (:mod:`~pvae.bayes.bayes_factors`).
"""

from ..anneal import EvidenceWarning
from .ais import Evidence, EvidenceError, evidence, power_schedule
from .bayes_factors import BayesFactor, bayes_factor_table, bayes_factors
from .bridge import BridgeEvidence, bridge_sampling
from .chains import UnbatchedModelWarning
from .sandwich import EvidenceSandwich, evidence_bdmc

__all__ = ["BayesFactor", "BridgeEvidence", "Evidence", "EvidenceError", "EvidenceSandwich",
           "EvidenceWarning", "UnbatchedModelWarning", "bayes_factor_table", "bayes_factors",
           "bridge_sampling", "evidence", "evidence_bdmc", "power_schedule"]
