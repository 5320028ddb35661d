"""The face of pvae: every public name, each on one line with the module it comes from.

This stub is the one list. Type checkers and editors read it as the package's interface;
``__init__.py`` hands it to ``lazy_loader.attach_stub``, which derives ``__all__`` and imports
each name from its module on first use. A name is added, moved or removed here and nowhere
else; the ``name as name`` form is how a stub says the name is re-exported.
"""

__version__: str

from .bayes import BayesFactor as BayesFactor
from .bayes import BridgeEvidence as BridgeEvidence
from .bayes import Evidence as Evidence
from .bayes import EvidenceError as EvidenceError
from .bayes import EvidenceSandwich as EvidenceSandwich
from .bayes import UnbatchedModelWarning as UnbatchedModelWarning
from .bayes import bayes_factors as bayes_factors
from .bayes import bridge_sampling as bridge_sampling
from .bayes import evidence as evidence
from .bayes import evidence_bdmc as evidence_bdmc
from .checkpoint import load as load
from .checkpoint import save as save
from .estimate import AISEstimate as AISEstimate
from .estimate import Comparison as Comparison
from .estimate import Estimate as Estimate
from .estimate import EvidenceWarning as EvidenceWarning
from .estimate import Fidelity as Fidelity
from .estimate import Gaps as Gaps
from .estimate import Holes as Holes
from .estimate import LatentUsage as LatentUsage
from .estimate import MixedEstimatesWarning as MixedEstimatesWarning
from .estimate import NonFiniteEstimateError as NonFiniteEstimateError
from .estimate import Novelty as Novelty
from .estimate import RecordingWarning as RecordingWarning
from .estimate import Sandwich as Sandwich
from .estimate import ScoreRow as ScoreRow
from .estimate import Scores as Scores
from .estimate import ScoreTable as ScoreTable
from .estimate import Sharpness as Sharpness
from .estimate import ais as ais
from .estimate import bdmc as bdmc
from .estimate import compare as compare
from .estimate import elbo as elbo
from .estimate import exact as exact
from .estimate import fidelity as fidelity
from .estimate import gaps as gaps
from .estimate import hole_distances as hole_distances
from .estimate import holes as holes
from .estimate import iwae as iwae
from .estimate import iwae_ladder as iwae_ladder
from .estimate import latent_usage as latent_usage
from .estimate import novelty as novelty
from .estimate import score as score
from .estimate import score_table as score_table
from .estimate import sharpness as sharpness
from .models import VAE as VAE
from .models import BayesianGaussian as BayesianGaussian
from .models import Gaussian as Gaussian
from .models import GaussianMixture as GaussianMixture
from .models import LinearGaussian as LinearGaussian
from .objectives import CheckedTrace_ELBO as CheckedTrace_ELBO
from .objectives import EagerPathWarning as EagerPathWarning
from .pair import Pair as Pair
from .pair import PairError as PairError
from .posterior import mcmc as mcmc
from .registry import UnknownNameError as UnknownNameError
from .selection import ComponentChoice as ComponentChoice
from .selection import choose_components as choose_components
from .train import ConvergenceWarning as ConvergenceWarning
from .train import DivergenceError as DivergenceError
from .train import FitResult as FitResult
from .train import NonFiniteLossError as NonFiniteLossError
from .train import fit as fit
from .validation import DataError as DataError
