"""The standard normal prior."""

from __future__ import annotations

from typing import override

import pyro.distributions as dist
import torch

from ..independent import LeanIndependent
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
        # Made once per anchor buffer (.to(device, dtype) replaces it), outside inference
        # mode so that a training step after an evaluation can use it; its parameters are
        # the constants 0 and 1, so there is nothing to validate.
        anchor = self.anchor
        made = self.__dict__.get("_made_for")
        if made is None or made[0] is not anchor:
            with torch.inference_mode(False), torch.no_grad():
                zeros = anchor.expand(self.z_dim)
                normal = dist.Normal(zeros, zeros + 1, validate_args=False)
                made = (anchor, LeanIndependent(normal, 1, validate_args=False))
            self.__dict__["_made_for"] = made
        return made[1]

    @property
    @override
    def analytic_kl(self) -> bool:
        return True
