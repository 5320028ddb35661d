"""Observation models: the distribution of the data given the model's parameters.

* ``likelihoods``: the VAE's p(x | z) from a decoder output: bernoulli,
  continuous_bernoulli, gaussian, laplace.
* ``location_scale_families``: p(x | loc, scale) for the Bayesian Gaussian and the VAE's
  real-valued likelihoods: normal, student_t, laplace.
"""

from .base import Likelihood, likelihoods
from .binary import Bernoulli, ContinuousBernoulli, all_binary, non_binary_count
from .location_scale import (
    LaplaceFamily,
    LocationScaleFamily,
    Normal,
    StudentT,
    location_scale_families,
)
from .real import Gaussian, Laplace

__all__ = [
    "Bernoulli",
    "ContinuousBernoulli",
    "Gaussian",
    "Laplace",
    "LaplaceFamily",
    "Likelihood",
    "LocationScaleFamily",
    "Normal",
    "StudentT",
    "all_binary",
    "likelihoods",
    "location_scale_families",
    "non_binary_count",
]
