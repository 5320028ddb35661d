"""The diagonal-Normal guide: the VAE's usual amortised posterior."""

from __future__ import annotations

from typing import override

import pyro.distributions as dist
import torch
from torch.nn.functional import softplus

from ..independent import LeanIndependent
from ..nets import Network
from .base import Guide, guides

__all__ = ["NormalGuide", "MIN_SCALE"]

MIN_SCALE = 1e-4


@guides.register("normal")
class NormalGuide(Guide):
    r""":math:`q(z \mid x) = \mathcal{N}(\mu(x), \mathrm{diag}\,\sigma(x)^2)`.

    The encoder outputs :math:`\mu` and a pre-activation of :math:`\sigma`
    (:math:`\sigma = \mathrm{softplus}(\cdot) + 10^{-4}`), and ``z`` is drawn by
    reparameterisation, :math:`z = \mu + \sigma\epsilon`.
    """

    analytic_kl = True

    @override
    def setup(self, x_shape: tuple[int, ...], z_dim: int, encoder: Network) -> None:
        super().setup(x_shape, z_dim, encoder)
        self.encoder = self.pyro_net(encoder.build(x_shape, (2, z_dim)))

    @override
    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.loc_and_scale(self.encoder(x))

    @staticmethod
    def loc_and_scale(encoded: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        r""":math:`\mu` and :math:`\sigma` from the encoder's ``(..., 2, z_dim)`` output."""
        loc, raw = encoded.unbind(-2)
        return loc, softplus(raw) + MIN_SCALE

    @override
    def posterior(self, x: torch.Tensor) -> dist.TorchDistribution:
        loc, scale = self.encode(x)
        return LeanIndependent(dist.Normal(loc, scale), 1)
