"""A learnable mixture of Gaussians as the prior."""

from __future__ import annotations

from typing import Any, override

import pyro.distributions as dist
import torch
from pyro.distributions import constraints
from pyro.nn import PyroParam

from ..validation import check_positive_int
from .base import Prior, priors
from .mixture import DiagonalNormalMixture

__all__ = ["MixtureOfGaussians"]


@priors.register("mog")
class MixtureOfGaussians(Prior):
    r"""A mixture of K diagonal Gaussians whose weights, means and scales are learned.

    .. math:: p(z) = \sum_{k=1}^K \pi_k\, \mathcal{N}(z \mid m_k, \mathrm{diag}(s_k^2))

    A multimodal prior lets the aggregate posterior keep clusters apart instead of
    squeezing them into one Gaussian blob.

    Parameters
    ----------
    components : int
        K, the number of mixture components.
    """

    locs: torch.Tensor
    scales: torch.Tensor
    logits: torch.Tensor

    def __init__(self, components: int = 10) -> None:
        super().__init__()
        self.components = check_positive_int(components, "components")

    @override
    def setup(self, z_dim: int, guide: Any) -> None:
        super().setup(z_dim, guide)
        k = self.components
        spread = torch.randn(k, z_dim, generator=torch.Generator().manual_seed(k))
        self.locs = PyroParam(spread)  # type: ignore[assignment]
        self.scales = PyroParam(  # type: ignore[assignment]
            torch.ones(k, z_dim), constraint=constraints.positive)
        self.logits = PyroParam(torch.zeros(k))  # type: ignore[assignment]

    @override
    def forward(self) -> dist.TorchDistribution:
        return DiagonalNormalMixture(self.logits, self.locs, self.scales)
