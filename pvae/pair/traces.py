r"""A pair's densities, read from its own traces: the one helper every estimator uses.

Every estimator that needs :math:`\log p(x, z)` or :math:`\log q(z \mid x)` — IWAE, AIS,
the local ELBO of the gap decomposition — runs the pair's ``model`` or ``guide`` under
Pyro's effect handlers and sums the sites' log-densities, with ``k`` particles per row in a
plate of their own (``dim=-2``, outside the data plate). The diagnostics of the latent space
(usage, holes) read its ``q(z | x)`` and ``p(z)`` with :func:`latent_densities`. No estimator
holds a second copy of the model.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import pyro
import torch
from pyro import poutine
from pyro.distributions import constraints
from pyro.poutine.util import site_is_subsample

__all__ = ["EnumeratedSiteError", "Latent", "LatentDensities", "base_distribution", "in_particles",
           "is_point_mass", "latent_densities", "latent_of", "log_joint", "sample_sites",
           "site_log_prob"]


class EnumeratedSiteError(ValueError):
    """The model sums a discrete site out by enumeration: its likelihood is exact, not sampled."""


class Latent(NamedTuple):
    """The one continuous latent site of a pair, per datapoint.

    Attributes
    ----------
    name : str
        The sample site's name (``"z"`` for pvae's models).
    event_shape : tuple of int
        The shape of one datapoint's code.
    """

    name: str
    event_shape: tuple[int, ...]


def in_particles(fn: Callable[..., Any], x: torch.Tensor, k: int) -> Callable[[], Any]:
    """``fn(x)`` with ``k`` particles per row, in a plate at ``dim=-2``."""

    def run() -> Any:
        with pyro.plate("particles", k, dim=-2):
            return fn(x)

    return run


def sample_sites(trace: Any) -> list[tuple[str, dict[str, Any]]]:
    """The trace's sample sites (not the plates' subsample sites), refusing enumerated ones."""
    sites = []
    for name, site in trace.nodes.items():
        if site["type"] != "sample" or site_is_subsample(site):
            continue
        if site["infer"].get("enumerate"):
            raise EnumeratedSiteError(
                "this model sums out a discrete site by enumeration: its likelihood is exact; "
                "use exact() or log_likelihood()")
        sites.append((name, site))
    return sites


def site_log_prob(site: dict[str, Any], shape: torch.Size) -> torch.Tensor:
    """A site's log-density, unscaled, as one value per particle and row (``shape``)."""
    log_prob = site["fn"].log_prob(site["value"])
    if log_prob.dim() > 1:
        log_prob = log_prob.reshape(log_prob.shape[-2:])
    return log_prob.expand(shape)


def latent_of(pair: Any, x: torch.Tensor) -> Latent:
    """The pair's single continuous latent site inside the data plate, or a clear error.

    Raises
    ------
    EnumeratedSiteError
        For a model with an enumerated (discrete) site.
    ValueError
        For a model without a latent site, with several, with a discrete or global one.
    """
    with torch.no_grad():
        trace = poutine.trace(in_particles(pair.model, x, 1)).get_trace()
    latent = [(name, site) for name, site in sample_sites(trace) if not site["is_observed"]]
    if len(latent) != 1:
        found = [name for name, _ in latent] or "none"
        raise ValueError(f"this estimator needs one continuous latent site per datapoint; "
                         f"the model has latent sites {found}"
                         + (" (without a latent its likelihood is exact: use pvae.exact)"
                            if not latent else ""))
    name, site = latent[0]
    support = site["fn"].support
    while isinstance(support, constraints.independent):
        support = support.base_constraint
    if support is not constraints.real:
        raise ValueError(f"the latent site {name!r} has support {site['fn'].support}; this "
                         "estimator needs a continuous site on the real line")
    value = site["value"]
    if value.dim() < 2 or value.shape[1] != x.shape[0]:
        raise ValueError(f"the latent site {name!r} is global (shape {tuple(value.shape)}), "
                         "not one code per datapoint inside the data plate")
    return Latent(name, tuple(site["fn"].event_shape))


def log_joint(pair: Any, x: torch.Tensor, latent: Latent,
              z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    r""":math:`\log p(x, z)` and :math:`\log p(z)`, each ``(k, B)``, for codes ``z`` (k, B, ...).

    The model runs once, conditioned on ``z`` at its latent site.
    """
    k = z.shape[0]
    conditioned = poutine.condition(in_particles(pair.model, x, k), data={latent.name: z})
    trace = poutine.trace(conditioned).get_trace()
    shape = torch.Size((k, x.shape[0]))
    total, prior = z.new_zeros(shape), z.new_zeros(shape)
    for name, site in sample_sites(trace):
        log_prob = site_log_prob(site, shape)
        total = total + log_prob
        if name == latent.name:
            prior = log_prob
    return total, prior


class LatentDensities(NamedTuple):
    r"""The latent's two distributions, read from one run of the guide and one of the model.

    Attributes
    ----------
    q : distribution
        :math:`q(z \mid x)` with one row per datapoint (batch shape ``(N,)``).
    prior : distribution
        :math:`p(z)` at the model's latent site.
    name : str
        The latent site's name.
    """

    q: Any
    prior: Any
    name: str


def latent_densities(pair: Any, x: torch.Tensor) -> LatentDensities:
    """``q(z | x)`` and ``p(z)`` at the pair's latent site, from the pair's own traces.

    The guide runs once on ``x``; the model runs once, replaying the guide's draws, so the
    prior is the one the ELBO scores (and the model draws nothing of its own). No gradient
    is recorded. Raises what :func:`latent_of` raises for a pair without one latent per row.
    """
    latent = latent_of(pair, x[:1])
    with torch.no_grad():
        guide = poutine.trace(pair.guide).get_trace(x)
        model = poutine.trace(poutine.replay(pair.model, trace=guide)).get_trace(x)
    return LatentDensities(guide.nodes[latent.name]["fn"], model.nodes[latent.name]["fn"],
                           latent.name)


def base_distribution(fn: Any) -> Any:
    """``fn`` without its ``Independent`` wrappers: the distribution of one coordinate."""
    while isinstance(fn, torch.distributions.Independent):
        fn = fn.base_dist
    return fn


def is_point_mass(fn: Any) -> bool:
    """Whether ``fn`` is a Delta (a guide without a density), however it is wrapped."""
    return type(base_distribution(fn)).__name__ == "Delta"

