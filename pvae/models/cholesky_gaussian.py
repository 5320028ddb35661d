r"""A multivariate Gaussian by its Cholesky factor, cheap to score a mixture's components.

.. math:: \log \mathcal N(x \mid \mu, LL^\top) = -\tfrac12 \lVert L^{-1}(x - \mu) \rVert^2
          - \textstyle\sum_d \log L_{dd} - \tfrac D2 \log 2\pi

A mixture's E-step scores every data row under every component: the enumerated model
builds one distribution whose parameters have the batch shape ``(K, 1)`` (one per
component) and scores the ``(N, D)`` data against it, for a ``(K, N)`` table. Torch's
``MultivariateNormal`` handles any broadcast in general, by expanding its parameters and
reshuffling the rows around one triangular solve; this class keeps the parameters at the
components' size and, in that layout, solves once per component against all N rows. Any
other layout falls back on torch's general code, so the values are the same either way.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from pyro.distributions import MultivariateNormal, TorchDistribution, constraints

__all__ = ["CholeskyGaussian", "cholesky_log_density"]


def cholesky_log_density(deviations: torch.Tensor, scale_tril: torch.Tensor) -> torch.Tensor:
    r""":math:`\log \mathcal N(x_n \mid \mu_p, L_p L_p^\top)` from the deviations, ``(P, N)``.

    ``deviations`` is :math:`x_n - \mu_p` of shape ``(P, N, D)`` and ``scale_tril`` the
    factors :math:`L_p`, ``(P, D, D)``: one triangular solve per factor, against all N rows.
    """
    d = deviations.shape[-1]
    # rows L^-T (a solve from the right) is each row's L^-1 (x - mu), laid out so that the
    # sum over D runs along memory
    whitened = torch.linalg.solve_triangular(scale_tril.mT, deviations, upper=True, left=False)
    mahalanobis = whitened.pow(2).sum(-1)
    half_log_det = scale_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1, keepdim=True)
    return -0.5 * (mahalanobis + d * math.log(2 * math.pi)) - half_log_det


def _broadcast(a: torch.Size, b: torch.Size) -> torch.Size:
    """``torch.broadcast_shapes(a, b)``, without its symbolic-shape machinery (slow here)."""
    if a == b:
        return a
    width = max(len(a), len(b))
    dims = []
    for left, right in zip((1,) * (width - len(a)) + tuple(a), (1,) * (width - len(b)) + tuple(b),
                           strict=True):
        if left != right and 1 not in (left, right):
            raise ValueError(f"shapes {tuple(a)} and {tuple(b)} do not broadcast")
        dims.append(right if left == 1 else left)
    return torch.Size(dims)


class CholeskyGaussian(TorchDistribution):
    r"""The Gaussian :math:`\mathcal N(\mu, LL^\top)`: ``loc`` is :math:`\mu`, ``scale_tril`` L.

    ``loc`` is ``(..., D)`` and ``scale_tril`` ``(..., D, D)``, of batch shapes that
    broadcast; ``expand``, as Pyro's plates call it, only records the larger batch shape.
    """

    arg_constraints = {"loc": constraints.real_vector, "scale_tril": constraints.lower_cholesky}
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, loc: torch.Tensor, scale_tril: torch.Tensor,
                 validate_args: bool | None = None) -> None:
        if not isinstance(loc, torch.Tensor) or not isinstance(scale_tril, torch.Tensor):
            raise TypeError(f"CholeskyGaussian needs tensors; got {type(loc).__name__} and "
                            f"{type(scale_tril).__name__}")
        if loc.dim() < 1 or scale_tril.dim() < 2 or scale_tril.shape[-2:] != (
                loc.shape[-1], loc.shape[-1]):
            raise ValueError(f"CholeskyGaussian needs loc (..., D) and scale_tril (..., D, D); "
                             f"got {tuple(loc.shape)} and {tuple(scale_tril.shape)}")
        self.loc, self.scale_tril = loc, scale_tril
        batch_shape = _broadcast(loc.shape[:-1], scale_tril.shape[:-2])
        super().__init__(batch_shape, loc.shape[-1:], validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> CholeskyGaussian:
        """The same components under a larger batch shape (no parameter is copied)."""
        batch_shape = torch.Size(batch_shape)
        try:
            wider = _broadcast(batch_shape, self.batch_shape) == batch_shape
        except ValueError:
            wider = False
        if not wider:
            raise ValueError(f"cannot expand batch shape {tuple(self.batch_shape)} to "
                             f"{tuple(batch_shape)}")
        new = self._get_checked_instance(CholeskyGaussian, _instance)
        new.loc, new.scale_tril = self.loc, self.scale_tril
        TorchDistribution.__init__(new, batch_shape, self.event_shape, validate_args=False)
        return new

    def _general(self) -> MultivariateNormal:
        loc = self.loc.expand(*self.batch_shape, -1)
        tril = self.scale_tril.expand(*self.batch_shape, -1, -1)
        return MultivariateNormal(loc, scale_tril=tril, validate_args=False)

    @property
    def mean(self) -> torch.Tensor:  # noqa: D102
        return self.loc.expand(*self.batch_shape, -1)

    @property
    def variance(self) -> torch.Tensor:  # noqa: D102
        return self.scale_tril.pow(2).sum(-1).expand(*self.batch_shape, -1)

    @property
    def covariance_matrix(self) -> torch.Tensor:
        r""":math:`LL^\top`."""
        return (self.scale_tril @ self.scale_tril.mT).expand(*self.batch_shape, -1, -1)

    def rsample(self, sample_shape: Any = ()) -> torch.Tensor:
        """``loc + L @ eps`` with standard normal ``eps``; differentiable in both."""
        shape = self._extended_shape(torch.Size(sample_shape))
        eps = torch.randn(shape, dtype=self.loc.dtype, device=self.loc.device)
        return self.loc + (self.scale_tril @ eps.unsqueeze(-1)).squeeze(-1)

    def log_prob(self, value: torch.Tensor) -> torch.Tensor:
        """The log-density of ``value`` ``(..., D)``, of the broadcast batch shape."""
        if self._validate_args:
            self._validate_sample(value)
        diff = value - self.loc
        batch, d = diff.shape[:-1], diff.shape[-1]
        tril = self.scale_tril
        # the fast path: one factor per component along all but the last batch dimension,
        # and the rows (the data, broadcast against a trailing 1 or not) along the last
        if len(batch) != len(self.batch_shape) or len(batch) < 2 \
                or batch[:-1] != self.batch_shape[:-1] or tril.shape[:-2] != (*batch[:-1], 1):
            return self._general().log_prob(value)
        per_component = tril.reshape(-1, d, d)  # (P, D, D), one factor per component
        rows = diff.reshape(per_component.shape[0], batch[-1], d)  # (P, N, D)
        return cholesky_log_density(rows, per_component).reshape(batch)

    def entropy(self) -> torch.Tensor:  # noqa: D102
        return self._general().entropy()
