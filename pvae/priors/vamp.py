"""The VampPrior: a mixture of the guide's posteriors at learned pseudo-inputs."""

from __future__ import annotations

from typing import Any, override

import pyro.distributions as dist
import torch
from pyro.nn import PyroParam

from ..validation import check_positive_int
from .base import Prior, priors
from .mixture import DiagonalNormalMixture

__all__ = ["VampPrior"]


@priors.register("vamp")
class VampPrior(Prior):
    r"""Variational mixture of posteriors (Tomczak and Welling, 2018).

    .. math:: p(z) = \frac1K \sum_{k=1}^K q(z \mid u_k)

    where :math:`q` is the VAE's own guide and the pseudo-inputs :math:`u_k` (shaped like
    the data) are learned. The components are the diagonal Normals the encoder outputs at
    the pseudo-inputs (for the flow guide, its base distribution before the flows, whose
    density at arbitrary points would need a slow sequential inversion). The optimal prior
    for a given encoder is the aggregate posterior
    :math:`\frac1N\sum_n q(z \mid x_n)`; the VampPrior approximates it with K learned points.

    Parameters
    ----------
    components : int
        K, the number of pseudo-inputs.
    """

    pseudo_inputs: torch.Tensor

    def __init__(self, components: int = 50) -> None:
        super().__init__()
        self.components = check_positive_int(components, "components")
        self._guide: list[Any] = []  # a plain list: the guide is not a submodule here

    @override
    def setup(self, z_dim: int, guide: Any) -> None:
        super().setup(z_dim, guide)
        if not guide.has_density:
            raise ValueError(
                f"the VampPrior is a mixture of the guide's densities, and the "
                f"{type(guide).__name__} guide has none; use the 'normal' or 'flow' guide"
            )
        self._guide[:] = [guide]
        generator = torch.Generator().manual_seed(self.components)
        start = 0.5 + 0.05 * torch.randn(self.components, *guide.x_shape, generator=generator)
        self.pseudo_inputs = PyroParam(start)  # type: ignore[assignment]

    @override
    def forward(self) -> dist.TorchDistribution:
        loc, scale = self._guide[0].encode(self.pseudo_inputs)  # each (K, z_dim)
        return DiagonalNormalMixture(self.anchor.new_zeros(self.components), loc, scale)
