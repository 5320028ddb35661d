"""Priors p(z) for the VAE's latent code, swappable by name: normal, mog, vamp."""

from .base import Prior, priors
from .mog import MixtureOfGaussians
from .normal import StandardNormal
from .vamp import VampPrior

__all__ = ["MixtureOfGaussians", "Prior", "StandardNormal", "VampPrior", "priors"]
