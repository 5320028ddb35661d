"""Covariance structures of a Gaussian mixture's components: ``full`` and ``diag``.

Each structure is a small ``PyroModule`` that owns the covariance parameters of all K
components, builds a component's distribution, and performs its closed-form M-step. The
mixture resolves one from the ``covariances`` registry and never branches on its name.
"""

from __future__ import annotations

import math
from typing import override

import pyro.distributions as dist
import torch
from pyro.distributions import constraints
from pyro.nn import PyroModule, PyroParam

from ..registry import Registry
from .cholesky_gaussian import CholeskyGaussian, cholesky_log_density
from .parameters import set_constrained

__all__ = ["Covariance", "DiagonalCovariance", "FullCovariance", "covariances"]


class Covariance(PyroModule):
    """Base class: the covariance parameters of K components in D dimensions."""

    def build(self, k: int, d: int, like: torch.Tensor) -> None:
        """Create the parameters (identity covariances) with ``like``'s dtype and device."""
        raise NotImplementedError

    def component(self, locs: torch.Tensor, index: torch.Tensor) -> dist.Distribution:
        """The distribution of component(s) ``index`` with means ``locs[index]``."""
        raise NotImplementedError

    def log_density(self, locs: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        r"""Every row's log-density under every component, ``(K, N)``.

        That is :math:`\log \mathcal N(x_n \mid \mu_k, \Sigma_k)`. This default scores
        :meth:`component` at every index; a structure overrides it with the same formula in
        plain tensor operations (EM's fast E-step).
        """
        index = torch.arange(locs.shape[0], device=locs.device).unsqueeze(-1)
        return self.component(locs, index).log_prob(x)

    def m_step(self, deviations: torch.Tensor, resp: torch.Tensor, counts: torch.Tensor,
               reg_covar: float) -> None:
        r"""Set the covariances to their closed-form maximiser.

        ``deviations`` is :math:`x_n - \mu_k` of shape ``(K, N, D)``, ``resp`` the
        responsibilities :math:`r_{kn}` of shape ``(K, N)`` and ``counts`` :math:`N_k`.
        """
        raise NotImplementedError

    @staticmethod
    def num_parameters(k: int, d: int) -> int:
        """The number of free covariance parameters, for the BIC."""
        raise NotImplementedError


covariances = Registry("covariance", Covariance)


@covariances.register("full")
class FullCovariance(Covariance):
    r"""A full covariance per component, stored by its Cholesky factor.

    M-step: :math:`\Sigma_k = \frac{1}{N_k}\sum_n r_{kn}(x_n - \mu_k)(x_n - \mu_k)^\top
    + \epsilon I`, where :math:`\epsilon` is ``reg_covar`` (as in scikit-learn).
    """

    scale_tril: torch.Tensor

    @override
    def build(self, k: int, d: int, like: torch.Tensor) -> None:
        eye = torch.eye(d, dtype=like.dtype, device=like.device)
        self.scale_tril = PyroParam(  # type: ignore[assignment]
            eye.expand(k, d, d).clone(), constraint=constraints.lower_cholesky)

    @override
    def component(self, locs: torch.Tensor, index: torch.Tensor) -> dist.Distribution:
        return CholeskyGaussian(locs[index], self.scale_tril[index])

    @override
    def log_density(self, locs: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return cholesky_log_density(x - locs.unsqueeze(1), self.scale_tril)

    @override
    def m_step(self, deviations: torch.Tensor, resp: torch.Tensor, counts: torch.Tensor,
               reg_covar: float) -> None:
        weighted = deviations * resp.unsqueeze(-1)
        cov = weighted.transpose(-1, -2) @ deviations / counts[:, None, None]
        cov.diagonal(dim1=-2, dim2=-1).add_(reg_covar)
        set_constrained(self, "scale_tril", torch.linalg.cholesky(cov))

    @override
    @staticmethod
    def num_parameters(k: int, d: int) -> int:
        return k * d * (d + 1) // 2


@covariances.register("diag")
class DiagonalCovariance(Covariance):
    r"""A diagonal covariance per component, stored as per-dimension scales.

    M-step: :math:`\sigma_{kd}^2 = \frac{1}{N_k}\sum_n r_{kn}(x_{nd} - \mu_{kd})^2
    + \epsilon`.
    """

    scales: torch.Tensor

    @override
    def build(self, k: int, d: int, like: torch.Tensor) -> None:
        ones = torch.ones(k, d, dtype=like.dtype, device=like.device)
        self.scales = PyroParam(ones, constraint=constraints.positive)  # type: ignore[assignment]

    @override
    def component(self, locs: torch.Tensor, index: torch.Tensor) -> dist.Distribution:
        return dist.Normal(locs[index], self.scales[index]).to_event(1)

    @override
    def log_density(self, locs: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        scales = self.scales.unsqueeze(1)
        standardised = (x - locs.unsqueeze(1)) / scales
        per_dim = -0.5 * standardised.square() - scales.log() - 0.5 * math.log(2 * math.pi)
        return per_dim @ per_dim.new_ones(per_dim.shape[-1])  # the sum over D, faster

    @override
    def m_step(self, deviations: torch.Tensor, resp: torch.Tensor, counts: torch.Tensor,
               reg_covar: float) -> None:
        var = (resp.unsqueeze(-1) * deviations.pow(2)).sum(1) / counts[:, None] + reg_covar
        set_constrained(self, "scales", var.sqrt())

    @override
    @staticmethod
    def num_parameters(k: int, d: int) -> int:
        return k * d
