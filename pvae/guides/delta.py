"""A point-mass guide: the deterministic autoencoder in the same framework."""

from __future__ import annotations

from typing import override

import pyro.distributions as dist
import torch

from ..nets import Network
from .base import Guide, guides

__all__ = ["DeltaGuide"]


@guides.register("delta")
class DeltaGuide(Guide):
    r""":math:`q(z \mid x) = \delta(z - f(x))`: every input maps to one point.

    The ELBO becomes :math:`\log p(x \mid f(x)) + \log p(f(x))`, a reconstruction error
    plus a penalty that keeps codes near the prior's mass: a regularised, deterministic
    autoencoder. With no spread in :math:`q`, nothing asks the decoder to make sense of the
    space *between* codes, which is why its latent space has holes that a VAE's does not.
    """

    has_density = False

    @override
    def setup(self, x_shape: tuple[int, ...], z_dim: int, encoder: Network) -> None:
        super().setup(x_shape, z_dim, encoder)
        self.encoder = self.pyro_net(encoder.build(x_shape, (z_dim,)))

    @override
    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        loc = self.encoder(x)
        return loc, torch.zeros_like(loc)

    @override
    def posterior(self, x: torch.Tensor) -> dist.TorchDistribution:
        return dist.Delta(self.encoder(x), event_dim=1)
