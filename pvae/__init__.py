"""pvae: maximum likelihood, the ELBO and VAEs as Pyro model/guide pairs.

Every model is a Pyro model/guide pair: import it, fit it with :func:`fit` (or with plain
``pyro.infer.SVI``), and score it on held-out data.
"""

from .infer import FitResult, NonFiniteLossError, fit, mcmc
from .models import VAE, BayesianGaussian, Gaussian, GaussianMixture
from .registry import Registry, UnknownNameError
from .selection import ComponentChoice, choose_components
from .validation import DataError

__all__ = [
    "VAE",
    "BayesianGaussian",
    "ComponentChoice",
    "DataError",
    "FitResult",
    "Gaussian",
    "GaussianMixture",
    "NonFiniteLossError",
    "Registry",
    "UnknownNameError",
    "choose_components",
    "fit",
    "mcmc",
]
__version__ = "0.1.0"
