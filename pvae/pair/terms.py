r"""The ELBO's two terms: reconstruction and KL.

.. math:: \mathrm{ELBO}(x) = \underbrace{\mathbb{E}_{q(z \mid x)}[\log p(x \mid z)]}
          _{\text{reconstruction}}
          - \underbrace{\mathrm{KL}(q(z \mid x) \,\|\, p(z))}_{\text{KL}}

Both are estimated from one draw of the guide per datapoint: the reconstruction is the
observed sites' log-density, the KL is :math:`\log q(z \mid x) - \log p(z)` summed over the
latent sites. For a deterministic guide (a Delta: the plain autoencoder) the "KL" is just
:math:`-\log p(z)`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any, NamedTuple

import torch
from pyro import poutine

from .hooks import kl_weight_of

__all__ = ["ElboTerms", "elbo_terms", "true_objective", "unit_kl_weight"]


@contextlib.contextmanager
def unit_kl_weight(pair: Any) -> Iterator[None]:
    """Within this block a pair's KL weight (``kl_weight``, if it has one) is 1: its true ELBO."""
    weight = kl_weight_of(pair)
    if weight is None:
        yield
        return
    pair.kl_weight = 1.0
    try:
        yield
    finally:
        pair.kl_weight = weight


#: the old name of :func:`unit_kl_weight`, for one release
true_objective = unit_kl_weight


class ElboTerms(NamedTuple):
    """Mean reconstruction and KL terms in nats per datapoint (ELBO = reconstruction - KL)."""

    reconstruction: float
    kl: float

    @property
    def elbo(self) -> float:
        """Their difference: a one-sample estimate of the ELBO."""
        return self.reconstruction - self.kl


def _per_row(site: dict[str, Any], rows: int) -> torch.Tensor:
    log_prob = site["fn"].log_prob(site["value"])
    if log_prob.dim() == 0:
        return log_prob.expand(rows) / rows  # a global site is shared by every row
    return log_prob.reshape(rows, -1).sum(-1)


@torch.no_grad()
def elbo_terms(pair: Any, x: torch.Tensor) -> ElboTerms:
    """One-sample estimates of the reconstruction and KL terms on ``x`` (KL weight 1)."""
    rows = x.shape[0]
    with unit_kl_weight(pair):
        guide = poutine.trace(pair.guide).get_trace(x)
        model = poutine.trace(poutine.replay(pair.model, trace=guide)).get_trace(x)
    reconstruction = x.new_zeros(rows)
    kl = x.new_zeros(rows)
    for name, site in model.nodes.items():
        if site["type"] != "sample":
            continue
        if site["is_observed"]:
            reconstruction += _per_row(site, rows)
        elif name in guide.nodes:
            kl += _per_row(guide.nodes[name], rows) - _per_row(site, rows)
    return ElboTerms(float(reconstruction.mean()), float(kl.mean()))
