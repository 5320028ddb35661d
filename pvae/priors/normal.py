"""The standard normal prior."""

from __future__ import annotations

from typing import override

import pyro.distributions as dist

from .base import Prior, priors

__all__ = ["StandardNormal"]


@priors.register("normal")
class StandardNormal(Prior):
    r"""The standard normal, :math:`p(z) = \mathcal{N}(0, I)`: the VAE's usual prior.

    With a diagonal-Normal guide the KL term has the closed form
    :math:`\tfrac12\sum_j(\mu_j^2 + \sigma_j^2 - 1 - \log\sigma_j^2)`.
    """

    @override
    def forward(self) -> dist.TorchDistribution:
        zeros = self.anchor.expand(self.z_dim)
        return dist.Normal(zeros, zeros + 1).to_event(1)

    @property
    @override
    def analytic_kl(self) -> bool:
        return True
