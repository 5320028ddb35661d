"""A mixture of diagonal Normals whose density costs matrix products, not a K-fold copy."""

from __future__ import annotations

import math
from typing import Any

import pyro.distributions as dist
import torch
from torch.distributions import constraints

__all__ = ["DiagonalNormalMixture"]


class DiagonalNormalMixture(dist.TorchDistribution):
    r""":math:`p(z) = \sum_k \pi_k \mathcal{N}(z \mid \mu_k, \mathrm{diag}\,\sigma_k^2)`.

    The same density as ``MixtureSameFamily`` of diagonal Normals, computed by expanding
    the square,

    .. math:: \sum_d \frac{(z_d - \mu_{kd})^2}{\sigma_{kd}^2}
              = z^2 \cdot \sigma_k^{-2} - 2\, z \cdot \mu_k \sigma_k^{-2}
              + \mu_k^2 \cdot \sigma_k^{-2},

    so that M points against K components take two ``(M, D) @ (D, K)`` products instead of
    an ``(M, K, D)`` tensor: with K = 500 pseudo-inputs and 5000 importance samples the
    latter is what made a VampPrior's IWAE-5000 two orders of magnitude slower.
    """

    arg_constraints: dict[str, Any] = {}
    support = constraints.real_vector

    def __init__(self, logits: torch.Tensor, locs: torch.Tensor, scales: torch.Tensor,
                 validate_args: bool | None = None) -> None:
        self.logits, self.locs, self.scales = logits, locs, scales
        super().__init__(torch.Size(), locs.shape[-1:], validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> DiagonalNormalMixture:
        """The same mixture for every element of ``batch_shape`` (as plates ask)."""
        new = self._get_checked_instance(DiagonalNormalMixture, _instance)
        new.logits, new.locs, new.scales = self.logits, self.locs, self.scales
        super(DiagonalNormalMixture, new).__init__(torch.Size(batch_shape), self.event_shape,
                                                   validate_args=False)
        return new

    def log_prob(self, value: torch.Tensor) -> torch.Tensor:  # noqa: D102
        precision = self.scales.pow(-2)  # (K, D)
        flat = value.reshape(-1, value.shape[-1])
        quadratic = (flat.pow(2) @ precision.T - 2 * flat @ (self.locs * precision).T
                     + (self.locs.pow(2) * precision).sum(-1))
        log_norm = self.scales.log().sum(-1) + 0.5 * value.shape[-1] * math.log(2 * math.pi)
        components = -0.5 * quadratic - log_norm + torch.log_softmax(self.logits, -1)
        log_density = torch.logsumexp(components, -1).reshape(value.shape[:-1])
        return log_density.expand(torch.broadcast_shapes(log_density.shape, self.batch_shape))

    def sample(self, sample_shape: Any = ()) -> torch.Tensor:  # noqa: D102
        shape = torch.Size(sample_shape) + self.batch_shape
        with torch.no_grad():
            index = torch.distributions.Categorical(logits=self.logits).sample(shape)
            noise = torch.randn(*shape, self.locs.shape[-1], dtype=self.locs.dtype,
                                device=self.locs.device)
            return self.locs[index] + self.scales[index] * noise

    @property
    def mean(self) -> torch.Tensor:  # noqa: D102
        weights = torch.softmax(self.logits, -1)
        return (weights[:, None] * self.locs).sum(0).expand(self.batch_shape + self.event_shape)
