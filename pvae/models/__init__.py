"""Model/guide pairs, one file per family."""

from .bayesian_gaussian import BayesianGaussian
from .covariance import covariances
from .gaussian import Gaussian
from .linear_gaussian import LinearGaussian
from .mixture import GaussianMixture
from .vae import VAE

__all__ = [
    "VAE",
    "BayesianGaussian",
    "Gaussian",
    "GaussianMixture",
    "LinearGaussian",
    "covariances",
]
