r"""The models of the evidence benchmark against other tools, each written three times.

Every model is one Pyro program (what pvae's AIS and bridge sampling read), one PyMC model
(what ``pm.sample_smc`` reads) and one log-likelihood with a prior transform from the unit
cube (what dynesty reads), over the same flat parameter vector, with its exact log evidence
in float64. ``tests/benchmarks/test_peers_models.py`` checks that the three agree with a
reference joint density written with SciPy, and that the exact evidence is what the joint
integrates to.

- **normal mean**, **bayesian regression**: the conjugate models of
  ``tests/bayes/test_evidence.py`` (its functions and data, reused).
- **gaussian mean, 12-d**: :math:`\mu \sim N(0, 3^2 I_{12})`,
  :math:`x_i \sim N(\mu, \Sigma)` with a known correlated :math:`\Sigma`, 30 rows; exact:
  the stacked rows are :math:`N(0, I_n \otimes \Sigma + 11^T \otimes 3^2 I)`.
- **eight schools (centred)**: :math:`\mu \sim N(0, 5^2)`, :math:`\tau \sim
  \mathrm{HalfCauchy}(5)`, :math:`\theta_j \sim N(\mu, \tau^2)`, :math:`y_j \sim
  N(\theta_j, \sigma_j^2)` on Rubin's eight schools. The group scale is a latent, so the
  posterior is the funnel itself (the centred parameterisation whose divergences are the
  textbook example): as :math:`\tau \to 0` the :math:`\theta_j` squeeze onto
  :math:`\mu`, and the posterior keeps mass there. Exact by quadrature over :math:`\tau`
  alone: given :math:`\tau` the model is linear-Gaussian, :math:`y \sim N(0,
  \mathrm{diag}(\sigma^2) + \tau^2 I + 5^2 11^T)`, and the one-dimensional integral
  against the half-Cauchy is taken by adaptive quadrature (its error, below 1e-8 nats, is
  kept in ``EIGHT_SCHOOLS_QUADRATURE_ERROR``).
- **regression, 24 coefficients**: :math:`w \sim N(0, I_{24})`, :math:`y \sim N(Xw, 1)`
  with 50 rows of a random design; exact :math:`y \sim N(0, I + XX^T)`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyro
import pyro.distributions as dist
import torch
from pyro import poutine
from scipy import integrate, special, stats

from tests.bayes.test_evidence import CASES, DESIGN, data

__all__ = ["MODELS", "PeerModel", "pyro_log_joint"]


@dataclass(frozen=True)
class PeerModel:
    """One model, written for each tool, over one flat parameter vector.

    ``sites`` names the Pyro latents in the order the flat vector holds them, with their
    shapes; a site bounded below (a scale) is held on its own scale, not its logarithm.
    """

    name: str
    x: torch.Tensor
    sites: dict[str, tuple[int, ...]]
    pyro: Callable[[torch.Tensor], None]
    exact: float
    log_likelihood: Callable[[np.ndarray], float]
    prior_transform: Callable[[np.ndarray], np.ndarray]
    log_prior: Callable[[np.ndarray], float]
    pymc: Callable[[], Any]
    note: str

    @property
    def ndim(self) -> int:
        """The length of the flat parameter vector."""
        return sum(math.prod(shape) for shape in self.sites.values())

    def unflatten(self, theta: np.ndarray) -> dict[str, np.ndarray]:
        """The flat vector as one array per site."""
        values, start = {}, 0
        for name, shape in self.sites.items():
            size = math.prod(shape)
            values[name] = np.asarray(theta[start:start + size]).reshape(shape)
            start += size
        return values


def pyro_log_joint(model: PeerModel, theta: np.ndarray) -> float:
    r""":math:`\log p(x, \theta)` read off the Pyro program's trace at ``theta``."""
    values = {name: torch.as_tensor(value, dtype=torch.float64)
              for name, value in model.unflatten(theta).items()}
    trace = poutine.trace(poutine.condition(model.pyro, data=values)).get_trace(model.x)
    return float(trace.log_prob_sum())


#: log sqrt(2 pi)
_HALF_LOG_TAU = 0.5 * math.log(2 * math.pi)


def _gaussian_log_likelihood(x: np.ndarray, mean: np.ndarray, scale: float | np.ndarray
                             ) -> float:
    """The normal log density summed, in plain NumPy (dynesty calls it 10^4-10^6 times)."""
    z = (x - mean) / scale
    return float(-0.5 * (z @ z) - np.broadcast_to(np.log(scale), x.shape).sum()
                 - len(x) * _HALF_LOG_TAU)


def _normal_mean() -> PeerModel:
    model, exact = CASES["normal mean"]
    x = data("normal mean")
    xs = x.numpy()

    def pymc() -> Any:
        import pymc as pm
        with pm.Model() as built:
            mu = pm.Normal("mu", 0.0, 2.0)
            pm.Normal("x", mu, 1.0, observed=xs)
        return built

    return PeerModel(
        "normal mean", x, {"mu": ()}, model, exact(x),
        lambda t: _gaussian_log_likelihood(xs, t[0], 1.0),
        lambda u: 2.0 * special.ndtri(u),
        lambda t: float(stats.norm.logpdf(t[0], 0.0, 2.0)), pymc,
        "mu ~ N(0, 2^2), 20 points x ~ N(mu, 1)")


def _regression() -> PeerModel:
    model, exact = CASES["bayesian regression"]
    y = data("bayesian regression")
    ys, design = y.numpy(), DESIGN.numpy()

    def pymc() -> Any:
        import pymc as pm
        with pm.Model() as built:
            w = pm.Normal("w", 0.0, 1.0, shape=2)
            pm.Normal("y", pm.math.dot(design, w), 0.5, observed=ys)
        return built

    return PeerModel(
        "bayesian regression", y, {"w": (2,)}, model, exact(y),
        lambda t: _gaussian_log_likelihood(ys, design @ t, 0.5),
        special.ndtri, lambda t: float(stats.norm.logpdf(t).sum()), pymc,
        "w ~ N(0, I_2), 25 points y ~ N(Xw, 0.5^2)")


def _gaussian_mean(dim: int = 12, rows: int = 30, prior: float = 3.0) -> PeerModel:
    generator = torch.Generator().manual_seed(12)
    root = torch.randn(dim, dim, generator=generator, dtype=torch.float64) / math.sqrt(dim)
    covariance = root @ root.T + 0.5 * torch.eye(dim, dtype=torch.float64)
    tril = torch.linalg.cholesky(covariance)
    truth = 2.0 * torch.randn(dim, generator=generator, dtype=torch.float64)
    x = truth + torch.randn(rows, dim, generator=generator, dtype=torch.float64) @ tril.T
    stacked = (torch.kron(torch.eye(rows, dtype=x.dtype), covariance)
               + prior**2 * torch.kron(torch.ones(rows, rows, dtype=x.dtype),
                                       torch.eye(dim, dtype=x.dtype)))
    exact = float(dist.MultivariateNormal(x.new_zeros(rows * dim), stacked).log_prob(
        x.reshape(-1)))

    def model(x: torch.Tensor) -> None:
        mu = pyro.sample("mu", dist.Normal(x.new_zeros(dim), prior).to_event(1))
        with pyro.plate("data", len(x)):
            pyro.sample("x", dist.MultivariateNormal(mu, scale_tril=tril), obs=x)

    xs, sigma = x.numpy(), covariance.numpy()
    precision = np.linalg.inv(sigma)
    # sum_i (x_i - t)' P (x_i - t) from the sufficient statistics: two small products a call
    squares, total = float(np.einsum("ni,ij,nj->", xs, precision, xs)), precision @ xs.sum(0)
    constant = -rows * (float(np.log(np.diag(tril.numpy())).sum()) + dim * _HALF_LOG_TAU)

    def log_likelihood(t: np.ndarray) -> float:
        return float(-0.5 * (squares - 2 * t @ total + rows * (t @ precision @ t)) + constant)

    def pymc() -> Any:
        import pymc as pm
        with pm.Model() as built:
            mu = pm.Normal("mu", 0.0, prior, shape=dim)
            pm.MvNormal("x", mu, cov=sigma, observed=xs)
        return built

    return PeerModel(
        f"gaussian mean, {dim}-d", x, {"mu": (dim,)}, model, exact, log_likelihood,
        lambda u: prior * special.ndtri(u),
        lambda t: float(stats.norm.logpdf(t, 0.0, prior).sum()), pymc,
        f"mu ~ N(0, {prior:g}^2 I_{dim}), {rows} rows x ~ N(mu, Sigma), Sigma known and "
        "correlated")


#: Rubin's eight schools: the estimated effects and their standard errors
SCHOOLS_Y = np.array([28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0])
SCHOOLS_SIGMA = np.array([15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0])
#: the scale of mu's normal prior and of tau's half-Cauchy prior
SCHOOLS_PRIOR = 5.0


def eight_schools_marginal(tau: float) -> float:
    r""":math:`\log p(y \mid \tau)`, the means :math:`\mu, \theta` integrated out."""
    covariance = (np.diag(SCHOOLS_SIGMA**2) + tau**2 * np.eye(8)
                  + SCHOOLS_PRIOR**2 * np.ones((8, 8)))
    return float(stats.multivariate_normal(np.zeros(8), covariance).logpdf(SCHOOLS_Y))


def _eight_schools_exact() -> tuple[float, float]:
    r""":math:`\log p(y)` by quadrature over :math:`u`, :math:`\tau = 5\tan(\pi u / 2)`.

    The substitution is the half-Cauchy's own quantile function, so the integrand is
    :math:`p(y \mid \tau(u))` on :math:`[0, 1]`, smooth and bounded. Returns the value and
    the quadrature's error bound in nats.
    """
    shift = eight_schools_marginal(0.0)

    def integrand(u: float) -> float:
        return math.exp(eight_schools_marginal(SCHOOLS_PRIOR * math.tan(math.pi * u / 2))
                        - shift)

    value, error = integrate.quad(integrand, 0.0, 1.0, epsabs=0.0, epsrel=1e-12, limit=200)
    return shift + math.log(value), error / value


EIGHT_SCHOOLS_EXACT, EIGHT_SCHOOLS_QUADRATURE_ERROR = _eight_schools_exact()


def _eight_schools() -> PeerModel:
    y = torch.as_tensor(SCHOOLS_Y)
    sigma = torch.as_tensor(SCHOOLS_SIGMA)

    def model(y: torch.Tensor) -> None:
        mu = pyro.sample("mu", dist.Normal(y.new_tensor(0.0), SCHOOLS_PRIOR))
        tau = pyro.sample("tau", dist.HalfCauchy(y.new_tensor(SCHOOLS_PRIOR)))
        with pyro.plate("schools", len(y)):
            theta = pyro.sample("theta", dist.Normal(mu, tau))
            pyro.sample("y", dist.Normal(theta, sigma), obs=y)

    def transform(u: np.ndarray) -> np.ndarray:
        mu = SCHOOLS_PRIOR * float(special.ndtri(u[0]))
        tau = SCHOOLS_PRIOR * math.tan(math.pi * u[1] / 2)
        return np.concatenate([[mu, tau], mu + tau * special.ndtri(u[2:])])

    def log_prior(t: np.ndarray) -> float:
        return float(stats.norm.logpdf(t[0], 0.0, SCHOOLS_PRIOR)
                     + stats.halfcauchy.logpdf(t[1], 0.0, SCHOOLS_PRIOR)
                     + stats.norm.logpdf(t[2:], t[0], t[1]).sum())

    def pymc() -> Any:
        import pymc as pm
        with pm.Model() as built:
            mu = pm.Normal("mu", 0.0, SCHOOLS_PRIOR)
            tau = pm.HalfCauchy("tau", SCHOOLS_PRIOR)
            theta = pm.Normal("theta", mu, tau, shape=8)
            pm.Normal("y", theta, SCHOOLS_SIGMA, observed=SCHOOLS_Y)
        return built

    return PeerModel(
        "eight schools (centred funnel)", y, {"mu": (), "tau": (), "theta": (8,)}, model,
        EIGHT_SCHOOLS_EXACT,
        lambda t: _gaussian_log_likelihood(SCHOOLS_Y, t[2:], SCHOOLS_SIGMA),
        transform, log_prior, pymc,
        "mu ~ N(0, 5^2), tau ~ HalfCauchy(5), theta_j ~ N(mu, tau^2), y_j ~ N(theta_j, "
        "sigma_j^2): 10 latents, the centred funnel")


def _wide_regression(coefficients: int = 24, rows: int = 50) -> PeerModel:
    generator = torch.Generator().manual_seed(24)
    design = torch.randn(rows, coefficients, generator=generator, dtype=torch.float64)
    truth = torch.randn(coefficients, generator=generator, dtype=torch.float64)
    y = design @ truth + torch.randn(rows, generator=generator, dtype=torch.float64)
    covariance = torch.eye(rows, dtype=y.dtype) + design @ design.T
    exact = float(dist.MultivariateNormal(y.new_zeros(rows), covariance).log_prob(y))

    def model(y: torch.Tensor) -> None:
        weights = pyro.sample("w", dist.Normal(y.new_zeros(coefficients), 1.0).to_event(1))
        with pyro.plate("data", len(y)):  # broadcasts: weights (chains, 1, K) -> (chains, N)
            pyro.sample("y", dist.Normal((design * weights).sum(-1), 1.0), obs=y)

    ys, xs = y.numpy(), design.numpy()

    def pymc() -> Any:
        import pymc as pm
        with pm.Model() as built:
            w = pm.Normal("w", 0.0, 1.0, shape=coefficients)
            pm.Normal("y", pm.math.dot(xs, w), 1.0, observed=ys)
        return built

    return PeerModel(
        f"regression, {coefficients} coefficients", y, {"w": (coefficients,)}, model, exact,
        lambda t: _gaussian_log_likelihood(ys, xs @ t, 1.0),
        special.ndtri, lambda t: float(stats.norm.logpdf(t).sum()), pymc,
        f"w ~ N(0, I_{coefficients}), {rows} points y ~ N(Xw, 1)")


#: every model of the benchmark, by name, built on import (the exact values take a second)
MODELS: dict[str, PeerModel] = {m.name: m for m in (
    _normal_mean(), _regression(), _gaussian_mean(), _eight_schools(), _wide_regression())}
