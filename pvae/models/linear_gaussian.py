"""Probabilistic PCA: the VAE whose likelihood is exact."""

from __future__ import annotations

from typing import Any, NamedTuple

import pyro
import pyro.distributions as dist
import torch
from pyro.distributions import constraints
from pyro.infer import ELBO, TraceMeanField_ELBO
from pyro.nn import PyroModule, PyroParam, pyro_method

from ..pair import data_plate, kl_scale
from ..registry import remember_spec
from ..validation import as_data, as_observations, check_count, check_min_points
from .parameters import instance_name, set_constrained

__all__ = ["LinearGaussian", "PPCASolution"]


class PPCASolution(NamedTuple):
    """The maximum-likelihood parameters of probabilistic PCA."""

    weight: torch.Tensor
    bias: torch.Tensor
    noise: torch.Tensor


class LinearGaussian(PyroModule):
    r"""A linear-Gaussian latent model (probabilistic PCA) as a Pyro model/guide pair.

    Model: :math:`z \sim \mathcal{N}(0, I_q)`, :math:`x \mid z \sim \mathcal{N}(Wz + b,
    s^2 I_D)`. It is a VAE whose decoder is linear, and its marginal is Gaussian,

    .. math:: p(x) = \mathcal{N}(x \mid b,\; WW^\top + s^2 I),

    so :meth:`log_likelihood` is exact and every bound the VAE relies on can be checked
    against it. The exact posterior is Gaussian too,
    :math:`p(z \mid x) = \mathcal{N}(M^{-1}W^\top(x - b),\; s^2 M^{-1})` with
    :math:`M = W^\top W + s^2 I`; the guide is an amortised diagonal Normal with a linear
    encoder, :math:`q(z \mid x) = \mathcal{N}(Ax + c, \mathrm{diag}(\sigma^2))`, which can
    match it exactly when :math:`W^\top W` is diagonal (as at the maximum-likelihood
    solution :meth:`closed_form`), and :meth:`posterior_kl` gives the gap
    :math:`\log p(x) - \mathrm{ELBO} = \mathrm{KL}(q(z \mid x) \,\|\, p(z \mid x))` in closed form.

    Parameters
    ----------
    dim : int
        D, the data dimension.
    z_dim : int
        q, the latent dimension (at most D).
    """

    weight: torch.Tensor
    bias: torch.Tensor
    noise: torch.Tensor
    encoder_weight: torch.Tensor
    encoder_bias: torch.Tensor
    posterior_scale: torch.Tensor
    kl_weight: float = 1.0

    def __init__(self, dim: int, z_dim: int) -> None:
        super().__init__(name=instance_name("LinearGaussian"))
        self.dim = check_count(dim, "dim")
        self.z_dim = check_count(z_dim, "z_dim", each=self.dim)
        if z_dim > dim:
            raise ValueError(f"z_dim ({z_dim}) cannot exceed the data dimension ({dim})")
        remember_spec(self, "linear_gaussian", dim=self.dim, z_dim=self.z_dim)
        generator = torch.Generator().manual_seed(dim * 1000 + z_dim)
        self.weight = PyroParam(0.1 * torch.randn(dim, z_dim, generator=generator))  # type: ignore[assignment]
        self.bias = PyroParam(torch.zeros(dim))  # type: ignore[assignment]
        self.noise = PyroParam(torch.ones(()), constraint=constraints.positive)  # type: ignore[assignment]
        self.encoder_weight = PyroParam(torch.zeros(z_dim, dim))  # type: ignore[assignment]
        self.encoder_bias = PyroParam(torch.zeros(z_dim))  # type: ignore[assignment]
        self.posterior_scale = PyroParam(  # type: ignore[assignment]
            torch.ones(z_dim), constraint=constraints.positive)

    @property
    def x_shape(self) -> tuple[int, ...]:
        """The shape of one observation, ``(dim,)``."""
        return (self.dim,)

    # -- the pair ------------------------------------------------------------------------
    def objective(self) -> ELBO:
        """``TraceMeanField_ELBO``: the KL between two Normals is closed form.

        Only the reconstruction term is sampled, which lowers the gradient's variance.
        """
        return TraceMeanField_ELBO(max_plate_nesting=1)

    @pyro_method
    def model(self, x: torch.Tensor, num_data: int | None = None) -> None:
        """Draw ``z ~ N(0, I)`` and observe ``x ~ N(Wz + b, s^2 I)`` for every row."""
        weight, bias, noise = self.weight, self.bias, self.noise
        with data_plate(x, num_data):
            zeros = x.new_zeros(self.z_dim)
            with kl_scale(self.kl_weight):
                z = pyro.sample("z", dist.Normal(zeros, zeros + 1).to_event(1))
            loc = z @ weight.T + bias
            pyro.sample("x", dist.Normal(loc, noise.expand(loc.shape)).to_event(1), obs=x)

    @pyro_method
    def guide(self, x: torch.Tensor, num_data: int | None = None) -> None:
        """Draw ``z ~ N(Ax + c, diag(sigma^2))`` for every row."""
        loc, scale = self.encode(x)
        with data_plate(x, num_data), kl_scale(self.kl_weight):
            pyro.sample("z", dist.Normal(loc, scale).to_event(1))

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The guide's location and scale for each row."""
        loc = x @ self.encoder_weight.T + self.encoder_bias
        return loc, self.posterior_scale.expand(loc.shape)

    def _observations(self, x: Any) -> torch.Tensor:
        return as_observations(x, (self.dim,), model=f"this model (dim={self.dim})")

    def check_data(self, x: Any) -> torch.Tensor:
        """Validate ``(N, D)`` data (any number of rows: one row has a likelihood too)."""
        return self._observations(x)

    # -- exact quantities ----------------------------------------------------------------
    def marginal(self) -> dist.MultivariateNormal:
        r""":math:`p(x) = \mathcal{N}(b, WW^\top + s^2 I)`."""
        with torch.no_grad():
            w = self.weight
            eye = torch.eye(self.dim, dtype=w.dtype, device=w.device)
            return dist.MultivariateNormal(self.bias, w @ w.T + self.noise**2 * eye)

    def log_likelihood(self, x: Any) -> torch.Tensor:
        r"""Exact :math:`\log p(x_i)` for each row, shape ``(N,)``."""
        tensor = self._observations(x).to(self.bias)
        with torch.no_grad():
            return self.marginal().log_prob(tensor)

    def exact_posterior(self, x: Any) -> tuple[torch.Tensor, torch.Tensor]:
        r"""The mean ``(N, q)`` and covariance ``(q, q)`` of :math:`p(z \mid x)`."""
        tensor = self._observations(x).to(self.bias)
        with torch.no_grad():
            w, s2 = self.weight, self.noise**2
            m = w.T @ w + s2 * torch.eye(self.z_dim, dtype=w.dtype, device=w.device)
            m_inv = torch.linalg.inv(m)
            return (tensor - self.bias) @ (m_inv @ w.T).T, s2 * m_inv

    def posterior_kl(self, x: Any) -> torch.Tensor:
        r""":math:`\mathrm{KL}(q(z \mid x_i) \,\|\, p(z \mid x_i))` for each row, closed form."""
        tensor = self._observations(x).to(self.bias)
        with torch.no_grad():
            q_loc, q_scale = self.encode(tensor)
            p_loc, p_cov = self.exact_posterior(tensor)
            q = dist.MultivariateNormal(q_loc, scale_tril=torch.diag_embed(q_scale))
            return torch.distributions.kl_divergence(q, dist.MultivariateNormal(p_loc, p_cov))

    @staticmethod
    def closed_form(x: Any, z_dim: int) -> PPCASolution:
        r"""Tipping and Bishop's (1999) maximum-likelihood solution.

        With the sample covariance :math:`S = U\Lambda U^\top` (divisor N):
        :math:`b = \bar x`, :math:`s^2 = \frac{1}{D - q}\sum_{j > q}\lambda_j` (the mean of the
        discarded eigenvalues) and :math:`W = U_q(\Lambda_q - s^2 I)^{1/2}`, unique up to a
        rotation of the latent space.
        """
        tensor = as_data(x, event_dims=(1,))
        check_min_points(tensor, 2, "a covariance")
        d = tensor.shape[1]
        if not 1 <= z_dim < d:
            raise ValueError(f"closed_form needs 1 <= z_dim < D = {d}; got {z_dim}")
        bias = tensor.mean(0)
        centred = tensor - bias
        values, vectors = torch.linalg.eigh(centred.T @ centred / tensor.shape[0])
        values, vectors = values.flip(0), vectors.flip(1)  # largest first
        noise2 = values[z_dim:].mean()
        weight = vectors[:, :z_dim] * (values[:z_dim] - noise2).clamp_min(0).sqrt()
        return PPCASolution(weight, bias, noise2.sqrt())

    def set_closed_form(self, x: Any, *, exact_guide: bool = True) -> None:
        r"""Put the model at :meth:`closed_form` and, optionally, the guide at p(z | x).

        At the closed form :math:`W^\top W` is diagonal, so the diagonal guide can equal
        the exact posterior and the ELBO is then tight.
        """
        solution = self.closed_form(x, self.z_dim)
        set_constrained(self, "weight", solution.weight.to(self.weight))
        set_constrained(self, "bias", solution.bias.to(self.bias))
        set_constrained(self, "noise", solution.noise.to(self.noise))
        if exact_guide:
            with torch.no_grad():
                w, s2 = self.weight, self.noise**2
                m_inv = torch.linalg.inv(w.T @ w + s2 * torch.eye(self.z_dim).to(w))
                projection = m_inv @ w.T
                set_constrained(self, "encoder_weight", projection)
                set_constrained(self, "encoder_bias", -projection @ self.bias)
                set_constrained(self, "posterior_scale", (s2 * m_inv).diagonal().sqrt())

    @property
    def num_parameters(self) -> int:
        """Free parameters of the model (not the guide): :math:`Dq + D + 1 - q(q-1)/2`."""
        d, q = self.dim, self.z_dim
        return d * q + d + 1 - q * (q - 1) // 2
