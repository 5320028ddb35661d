"""The VAE's observation model p(x | z): a decoder output in, a distribution out."""

from __future__ import annotations

import pyro.distributions as dist
import torch
from pyro.nn import PyroModule

from ..registry import Registry

__all__ = ["Likelihood", "likelihoods"]


class Likelihood(PyroModule):
    """Base class: turns the decoder's output into the distribution of one observation.

    The decoder produces one number per data dimension (a logit, a mean); the likelihood
    owns any extra parameter (a learned scale) and declares the data's support, so bad
    data is refused before training with a hint about what to use instead.
    """

    x_shape: tuple[int, ...]

    def setup(self, x_shape: tuple[int, ...]) -> None:
        """Create any parameters for observations of shape ``x_shape``."""
        self.x_shape = x_shape

    def forward(self, decoded: torch.Tensor) -> dist.TorchDistribution:
        """The distribution of ``x`` given the decoder output, event shape ``x_shape``."""
        raise NotImplementedError

    def mean(self, decoded: torch.Tensor) -> torch.Tensor:
        """The expected observation, for reconstructions and samples."""
        return self(decoded).mean

    def support_error(self, x: torch.Tensor) -> str | None:
        """Why ``x`` lies outside this likelihood's support, or ``None`` if it does not."""
        return None


likelihoods = Registry("likelihood", Likelihood)
