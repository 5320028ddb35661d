"""A Gaussian mixture: a likelihood that is a sum over components."""

from __future__ import annotations

import math
from typing import Any

import pyro
import pyro.distributions as dist
import torch
from pyro.distributions import constraints
from pyro.infer import ELBO, TraceEnum_ELBO
from pyro.nn import PyroModule, PyroParam, pyro_method

from ..pair import data_plate, enumerated_log_joint
from ..registry import remember_spec
from ..validation import (
    DataError,
    as_data,
    as_observations,
    check_count,
    check_min_points,
    check_nonnegative_number,
    check_spread,
)
from .covariance import Covariance, covariances
from .kmeans import kmeans_plusplus
from .parameters import instance_name, set_constrained

__all__ = ["GaussianMixture"]


def _described(x: Any) -> str:
    return f"shape {tuple(x.shape)}" if isinstance(x, torch.Tensor) else type(x).__name__


class GaussianMixture(PyroModule):
    r"""K Gaussian components in D dimensions, with the assignments enumerated.

    The generative model, for each observation :math:`i`,

    .. math:: c_i \sim \mathrm{Categorical}(w), \qquad
              x_i \mid c_i = k \sim \mathcal{N}(\mu_k, \Sigma_k),

    has the likelihood of a *sum*, one term per component:

    .. math:: \log p(x) = \sum_i \log \sum_{k=1}^K w_k\, \mathcal{N}(x_i \mid \mu_k, \Sigma_k).

    The assignment site ``"assignment"`` is marked for parallel enumeration, so
    ``TraceEnum_ELBO`` (this pair's :meth:`objective`) sums it out exactly and the guide
    stays empty. The same enumerated trace gives the exact :meth:`log_likelihood` and the
    :meth:`responsibilities` :math:`p(c_i = k \mid x_i)`, which is the E-step of EM; the
    M-step (:meth:`m_step`) is closed form.

    Parameters
    ----------
    n_components : int
        K, the number of components.
    dim : int or None
        D. ``None`` defers it to the first data seen by :meth:`initialize`.
    covariance : str, dict or Covariance
        ``"full"`` or ``"diag"`` (the ``covariances`` registry), or a ready object.
    reg_covar : float
        Added to every covariance's diagonal in the M-step, as scikit-learn does, so that a
        component that collapses onto one point does not produce an infinite likelihood.
    """

    weights: torch.Tensor
    locs: torch.Tensor

    def __init__(self, n_components: int, dim: int | None = None,
                 covariance: str | dict[str, Any] | Covariance = "full",
                 reg_covar: float = 1e-6) -> None:
        super().__init__(name=instance_name("GaussianMixture"))
        self.n_components = check_count(n_components, "n_components")
        self.reg_covar = check_nonnegative_number(reg_covar, "reg_covar")
        self.covariance = covariances.resolve(covariance)
        self.dim: int | None = None
        remember_spec(self, "gaussian_mixture", n_components=self.n_components, dim=dim,
                      covariance=self.covariance, reg_covar=self.reg_covar)
        if dim is not None:
            self._build(check_count(dim, "dim"), torch.empty(0))

    def _build(self, d: int, like: torch.Tensor) -> None:
        k = check_count(self.n_components, "n_components", each=d * d)  # full covariances
        self.dim = d
        remember_spec(self, "gaussian_mixture", n_components=k, dim=d,
                      covariance=self.covariance, reg_covar=self.reg_covar)
        self.weights = PyroParam(  # type: ignore[assignment]
            like.new_full((k,), 1.0 / k), constraint=constraints.simplex)
        self.locs = PyroParam(like.new_zeros(k, d))  # type: ignore[assignment]
        self.covariance.build(k, d, like)

    def _require_built(self) -> None:
        if self.dim is None:
            raise ValueError(
                "this GaussianMixture does not know its dimension yet: pass dim=D when "
                "building it, or fit it first (pvae.fit calls initialize(x))"
            )

    # -- the model/guide pair --------------------------------------------------------------
    @pyro_method
    def model(self, x: torch.Tensor, num_data: int | None = None) -> None:
        """Draw an assignment per row (enumerated), then the row from its component."""
        self._require_built()
        weights, locs = self.weights, self.locs
        with data_plate(x, num_data):
            c = pyro.sample("assignment", dist.Categorical(logits=weights.log()),
                            infer={"enumerate": "parallel"})
            pyro.sample("x", self.covariance.component(locs, c), obs=x)

    @pyro_method
    def guide(self, x: torch.Tensor, num_data: int | None = None) -> None:
        """Empty: the assignments are summed out, the rest are parameters."""

    def objective(self) -> ELBO:
        """``TraceEnum_ELBO``: the exact log-likelihood, with the assignments summed out."""
        return TraceEnum_ELBO(max_plate_nesting=1)

    def closed_form_log_joint(self, x: torch.Tensor) -> torch.Tensor:
        r"""EM's E-step table, shape ``(K, N)``, computed without Pyro's enumeration.

        .. math:: \ell_{kn} = \log w_k + \log \mathcal{N}(x_n \mid \mu_k, \Sigma_k)

        The same two log-densities the model's trace holds at the enumerated assignments
        :math:`c = 0, \dots, K-1`, in plain tensor operations: the enumerated table to
        rounding, with none of the tracing (nor the distributions' construction).
        EM checks the two agree on its first iteration and uses the enumerated model if not.
        """
        self._require_built()
        if not isinstance(x, torch.Tensor) or x.dim() != 2 or x.shape[1] != self.dim:
            raise DataError(f"closed_form_log_joint needs an (N, {self.dim}) tensor, as EM "
                            f"passes it; got {_described(x)}. log_joint(x) takes any data")
        logits = self.weights.log()  # normalised as Categorical(logits=...) normalises them
        log_weights = logits - logits.logsumexp(-1, keepdim=True)
        return log_weights.unsqueeze(-1) + self.covariance.log_density(self.locs, x)

    # -- data ------------------------------------------------------------------------------
    def check_data(self, x: Any) -> torch.Tensor:
        """Validate ``x`` for this mixture and return it as an ``(N, D)`` tensor."""
        tensor = as_data(x, event_dims=(1,))
        if self.dim is not None and tensor.shape[1] != self.dim:
            raise DataError(
                f"this mixture has dim={self.dim}; got data of shape {tuple(tensor.shape)}"
            )
        check_min_points(tensor, self.n_components,
                         f"a mixture of {self.n_components} components")
        check_spread(tensor)
        return tensor

    def _as_model_data(self, x: Any) -> torch.Tensor:
        self._require_built()
        assert self.dim is not None
        return as_observations(x, (self.dim,), model=f"this mixture (dim={self.dim})").to(
            self.locs)

    # -- fitting ---------------------------------------------------------------------------
    def initialize(self, x: torch.Tensor, generator: torch.Generator) -> None:
        """k-means++ seeding, then one M-step on the hard assignment to the nearest seed."""
        if self.dim is None or self.locs.device != x.device or self.locs.dtype != x.dtype:
            self._build(x.shape[1], x)
        centres = kmeans_plusplus(x, self.n_components, generator)
        nearest = torch.cdist(x, centres).argmin(-1)
        resp = torch.nn.functional.one_hot(nearest, self.n_components).to(x.dtype).T
        self.m_step(x, resp)

    def m_step(self, x: torch.Tensor, responsibilities: torch.Tensor) -> None:
        r"""Set every parameter to its closed-form maximiser given the responsibilities.

        With :math:`N_k = \sum_n r_{kn}`: :math:`w_k = N_k / N`,
        :math:`\mu_k = \frac{1}{N_k}\sum_n r_{kn} x_n`, and the covariance update of the
        chosen structure.
        """
        with torch.no_grad():
            tiny = 10 * torch.finfo(x.dtype).eps  # keeps an empty component finite
            counts = responsibilities.sum(1) + tiny
            locs = responsibilities @ x / counts[:, None]
            set_constrained(self, "weights", counts / counts.sum())
            set_constrained(self, "locs", locs)
            self.covariance.m_step(x.unsqueeze(0) - locs.unsqueeze(1), responsibilities,
                                   counts, self.reg_covar)

    # -- what the fitted mixture says ------------------------------------------------------
    def log_joint(self, x: Any) -> torch.Tensor:
        r""":math:`\log w_k + \log \mathcal{N}(x_i \mid \mu_k, \Sigma_k)`, shape ``(K, N)``."""
        tensor = self._as_model_data(x)
        with torch.no_grad():
            return enumerated_log_joint(self.model, tensor)

    def log_likelihood(self, x: Any) -> torch.Tensor:
        r"""Exact :math:`\log p(x_i)` for each row (a logsumexp over components), ``(N,)``."""
        return torch.logsumexp(self.log_joint(x), 0)

    def responsibilities(self, x: Any) -> torch.Tensor:
        r"""The posterior :math:`p(c_i = k \mid x_i)`, shape ``(N, K)``; rows sum to one."""
        return torch.softmax(self.log_joint(x), 0).T

    def predict(self, x: Any) -> torch.Tensor:
        """Each row's most probable component, shape ``(N,)``."""
        return self.log_joint(x).argmax(0)

    @property
    def num_parameters(self) -> int:
        """Free parameters: K - 1 weights, K·D means, and the covariances."""
        self._require_built()
        assert self.dim is not None
        k, d = self.n_components, self.dim
        return (k - 1) + k * d + self.covariance.num_parameters(k, d)

    def bic(self, x: Any) -> float:
        r"""Bayesian information criterion, :math:`-2 \log p(x) + p \log N` (lower is better)."""
        log_lik = self.log_likelihood(x)
        return float(-2 * log_lik.sum() + self.num_parameters * math.log(log_lik.shape[0]))
