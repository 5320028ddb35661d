"""Training objectives by name: ``elbo``, ``meanfield``, ``iwae``."""

from __future__ import annotations

from pyro.infer import ELBO, RenyiELBO, Trace_ELBO, TraceMeanField_ELBO

from .registry import Registry
from .validation import check_positive_int

__all__ = ["objectives"]

objectives = Registry("objective", ELBO)


@objectives.register("elbo")
def elbo(num_particles: int = 1) -> ELBO:
    r"""``Trace_ELBO``: :math:`\mathbb{E}_q[\log p(x, z) - \log q(z \mid x)]` by sampling."""
    return Trace_ELBO(num_particles=check_positive_int(num_particles, "num_particles"),
                      vectorize_particles=num_particles > 1, max_plate_nesting=1)


@objectives.register("meanfield")
def meanfield() -> ELBO:
    r"""``TraceMeanField_ELBO``: the KL term in closed form where it exists.

    :math:`\mathbb{E}_q[\log p(x \mid z)] - \mathrm{KL}(q(z \mid x) \,\|\, p(z))`, with a
    lower-variance gradient than the all-sampled ELBO.
    """
    return TraceMeanField_ELBO(max_plate_nesting=1)


@objectives.register("iwae")
def iwae(k: int = 5) -> ELBO:
    r"""The importance-weighted bound (Burda et al., 2016), ``RenyiELBO(alpha=0)``.

    :math:`\mathbb{E}\left[\log \frac1k \sum_{j=1}^k \frac{p(x, z_j)}{q(z_j \mid x)}\right]`,
    tighter than the ELBO for :math:`k > 1` and equal to it at :math:`k = 1`.
    """
    k = check_positive_int(k, "k")
    return RenyiELBO(alpha=0.0, num_particles=k, vectorize_particles=True, max_plate_nesting=1)
