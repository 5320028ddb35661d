"""The prior base class and its registry."""

from __future__ import annotations

from typing import Any

import pyro.distributions as dist
import torch
from pyro.nn import PyroModule

from ..registry import Registry

__all__ = ["Prior", "priors"]


class Prior(PyroModule):
    """Base class: a distribution over ``z`` with event shape ``(z_dim,)``.

    A prior is resolved from the ``priors`` registry without knowing the latent size;
    the VAE then calls :meth:`setup` once, with ``z_dim`` and the guide (which the
    VampPrior needs), and calls the prior (``forward()``) in every model run.
    """

    z_dim: int

    def setup(self, z_dim: int, guide: Any) -> None:
        """Create the parameters for a latent space of ``z_dim`` dimensions."""
        self.z_dim = z_dim
        self.register_buffer("anchor", torch.zeros(()))  # follows .to(device, dtype)

    def forward(self) -> dist.TorchDistribution:
        """The prior distribution, batch shape ``()``."""
        raise NotImplementedError

    @property
    def analytic_kl(self) -> bool:
        """Whether KL(Normal guide || this prior) has a closed form (TraceMeanField_ELBO)."""
        return False


priors = Registry("prior", Prior)
