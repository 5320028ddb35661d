"""Model/guide pairs, one file per family."""

import torch

from ..registry import Registry
from .bayesian_gaussian import BayesianGaussian
from .covariance import covariances
from .gaussian import Gaussian
from .linear_gaussian import LinearGaussian
from .mixture import GaussianMixture
from .vae import VAE

#: The models a config's ``[model]`` table can name.
models = Registry("model", torch.nn.Module)
models.register("gaussian")(Gaussian)
models.register("gaussian_mixture")(GaussianMixture)
models.register("linear_gaussian")(LinearGaussian)
models.register("vae")(VAE)

__all__ = [
    "VAE",
    "BayesianGaussian",
    "Gaussian",
    "GaussianMixture",
    "LinearGaussian",
    "covariances",
    "models",
]
