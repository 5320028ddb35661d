r"""What the KL term pays for: ELBO surgery (Hoffman & Johnson, 2016) and active units.

Averaged over the data, the ELBO's KL term splits into two parts,

.. math:: \frac1N\sum_n \mathrm{KL}\big(q(z \mid x_n) \,\|\, p(z)\big)
          = \underbrace{I_q(x; z)}_{\text{mutual information}}
          + \underbrace{\mathrm{KL}\big(q(z) \,\|\, p(z)\big)}_{\text{marginal KL}},

with the aggregate posterior :math:`q(z) = \frac1N \sum_n q(z \mid x_n)`. Only the mutual
information carries information about :math:`x`, and it is at most :math:`\log N`; the
marginal KL is the price of codes that do not cover the prior. A latent dimension is
*active* (Burda, Grosse & Salakhutdinov, 2016) when its posterior mean moves with the data:
:math:`A_d = \mathrm{Cov}_x\big(\mathbb{E}_{q(z \mid x)}[z_d]\big) > 0.01`.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import pyro
import pyro.distributions as dist
import torch

from ..pair import base_distribution, is_point_mass, latent_densities, unit_kl_weight
from ..randomness import seeded
from ..results import summarised
from ..validation import check_count, check_positive_int
from .importance import prepare

__all__ = ["ACTIVE", "LatentUsage", "latent_usage"]

#: the activity above which a latent dimension counts as active
ACTIVE = 0.01


@summarised()
class LatentUsage(NamedTuple):
    r"""How a model uses its latent code, nats per datapoint.

    Attributes
    ----------
    kl : float
        Mean KL(q(z | x) || p(z)) (closed form where there is one, else Monte Carlo).
    kl_per_dim : Tensor or None
        One value per latent dimension (a factorised prior and a Normal guide: closed form;
        a mixture prior: Monte Carlo on each dimension's marginals), or None with a reason
        in ``note``.
    activity : Tensor
        :math:`\mathrm{Cov}_x(\mathbb{E}_q[z_d])` per dimension.
    active_units : int
        Dimensions whose activity is above :data:`ACTIVE`.
    mutual_information, marginal_kl : float
        The ELBO-surgery terms: kl = mutual_information + marginal_kl (up to Monte Carlo
        error), and mutual_information <= log N.
    note : str
        What was estimated how.
    """

    kl: float
    kl_per_dim: torch.Tensor | None
    activity: torch.Tensor
    active_units: int
    mutual_information: float
    marginal_kl: float
    note: str


def _densities(pair: Any, x: torch.Tensor) -> tuple[Any, Any]:
    """q(z | x) (batch N) and p(z), refusing a point-mass guide."""
    q, prior, _ = latent_densities(pair, x)
    if is_point_mass(q):
        raise ValueError("the guide is a point mass (a Delta): KL(q || p) and the mutual "
                         "information are infinite; latent usage needs a guide with a density")
    return q, prior


def _per_dim(q: Any, prior: Any, z: torch.Tensor) -> tuple[torch.Tensor | None, str]:
    """KL per dimension, and how it was found (or why it was not)."""
    base_q, base_p = base_distribution(q), base_distribution(prior)
    if not isinstance(base_q, torch.distributions.Normal):
        return None, ("no per-dimension KL: this guide's q(z | x) does not factorise over "
                      "dimensions (a flow)")
    if isinstance(base_p, torch.distributions.Normal):
        kl = torch.distributions.kl_divergence(base_q, base_p.expand(base_q.batch_shape))
        return kl.mean(0), "KL per dimension in closed form"
    if hasattr(base_p, "locs") and hasattr(base_p, "scales") and hasattr(base_p, "logits"):
        # a mixture of diagonal Normals: each dimension's marginal is a 1-D mixture
        weights = torch.log_softmax(base_p.logits, -1)  # (K,)
        values = z[..., :, None]  # (S, N, D, 1)
        components = torch.distributions.Normal(base_p.locs.T, base_p.scales.T)  # (D, K)
        log_p = torch.logsumexp(components.log_prob(values) + weights, -1)  # (S, N, D)
        log_q = base_q.log_prob(z)
        return (log_q - log_p).mean((0, 1)), ("KL per dimension by Monte Carlo on each "
                                              "dimension's marginal mixture")
    return None, f"no per-dimension KL for a {type(base_p).__name__} prior"


def latent_usage(pair: Any, x: Any, *, samples: int = 10, seed: int | None = None
                 ) -> LatentUsage:
    """KL, its split into mutual information and marginal KL, and the active units.

    ``samples`` codes per datapoint estimate every Monte Carlo term; the aggregate posterior
    is the mixture of ``q(z | x_n)`` over the rows of ``x`` (so the mutual information is at
    most log N for N rows). ``seed`` fixes the draws (the caller's random state is left as
    it was; ``None``: the global generators).
    """
    samples = check_positive_int(samples, "samples")
    tensor = prepare(pair, x)
    if len(tensor) < 2:
        raise ValueError("latent usage compares codes across the data: give at least 2 rows")
    # the aggregate posterior scores every code under every row's q: S x N x N values
    check_count(samples, "samples", each=len(tensor) ** 2)
    with seeded(seed), unit_kl_weight(pair), pyro.validation_enabled(False), torch.no_grad():
        q, prior = _densities(pair, tensor)
        z = q.sample((samples,))  # (S, N, D)
        log_q_own = q.log_prob(z)  # (S, N)
        log_prior = prior.log_prob(z).reshape(log_q_own.shape)
        cross = torch.stack([q.log_prob(z[:, n, None].expand(-1, len(tensor), -1))
                             for n in range(len(tensor))], 1)  # (S, N, M): log q(z_n | x_m)
        log_aggregate = torch.logsumexp(cross, -1) - math.log(len(tensor))
        information = float((log_q_own - log_aggregate).mean())
        marginal = float((log_aggregate - log_prior).mean())
        try:
            kl = float(torch.distributions.kl_divergence(q, prior.expand(q.batch_shape)).mean())
            how = "KL in closed form"
        except NotImplementedError:
            kl = float((log_q_own - log_prior).mean())
            how = f"KL by Monte Carlo ({samples} codes per datapoint)"
        per_dim, per_dim_note = _per_dim(q, prior, z)
        base_q = base_distribution(q)
        exact_means = (isinstance(base_q, torch.distributions.Normal)
                       and not isinstance(q, dist.TransformedDistribution))
        means = base_q.loc if exact_means else z.mean(0)
        activity = means.var(0, unbiased=True)
    return LatentUsage(kl=kl, kl_per_dim=None if per_dim is None else per_dim.cpu(),
                       activity=activity.cpu(), active_units=int((activity > ACTIVE).sum()),
                       mutual_information=information, marginal_kl=marginal,
                       note=f"{how}; {per_dim_note}; mutual information and marginal KL by "
                            f"Monte Carlo against the aggregate of {len(tensor)} posteriors")
