r"""A Pyro model's latent sites as one unconstrained vector per chain, and AIS's start density.

Every latent site :math:`\theta_j` is mapped to the real line by its support's bijection,
:math:`\theta_j = T_j(u_j)`, and the chains' :math:`u` are laid out flat, site after site
in the model's order (the order Pyro's ``AutoContinuous`` guides pack them in). A density
:math:`p(\theta)` becomes :math:`p(T(u))\,\lvert \det \partial T / \partial u \rvert` there.

The start density :math:`p_0(u)` of the annealing path is the prior, or a guide
:math:`q(\theta)`: Pyro's ``AutoNormal`` and ``AutoContinuous`` guides (``AutoDiagonalNormal``,
``AutoMultivariateNormal``, ``AutoLowRankMultivariateNormal``, ...) already are densities
over :math:`u`; any other guide must sample exactly the model's latent sites, each with a
density, and is then read through the same bijections.
"""

from __future__ import annotations

import math
from operator import attrgetter
from typing import Any, NamedTuple

import pyro
import pyro.distributions as dist
import torch
from pyro import poutine
from pyro.infer.autoguide import AutoContinuous, AutoNormal
from pyro.poutine.util import site_is_subsample
from torch.distributions import biject_to

from ..checked import random_state, restore
from .chains import (
    broadcast_draws,
    choose_mapping,
    draws_in_sequence,
    per_chain_log_densities,
)

__all__ = ["EvidenceError", "ModelLatents", "refuse_partial_data", "traced_from_the_prior"]


class EvidenceError(ValueError):
    """A model whose evidence this estimator cannot take (no latent, improper, discrete)."""


class _Flat(NamedTuple):
    """What AIS's chains need to know of the latent: one flat vector per chain."""

    event_shape: tuple[int, ...]


def traced_from_the_prior(model: Any, x: torch.Tensor) -> dict[str, Any]:
    """The sites of one run of ``model(x)``, its latents drawn from their priors."""
    try:  # with Pyro's checks of shapes and supports, once, before any work
        with torch.no_grad(), pyro.validation_enabled(True):
            trace = poutine.trace(model).get_trace(x)
            trace.compute_log_prob()  # checks each value's shape and support
            nodes: dict[str, Any] = trace.nodes
    except (ValueError, RuntimeError, TypeError, IndexError) as error:
        # (a NotImplementedError is a RuntimeError, as torch 2.6's missing kernels are)
        if "not implemented for" in str(error):  # a kernel for another dtype
            raise EvidenceError(f"the model does not run on this data ({_first_line(error)}); "
                                "pass floating-point data") from None
        if isinstance(error, NotImplementedError):
            raise EvidenceError("a latent site's prior cannot be sampled (an improper prior "
                                "such as ImproperUniform): the evidence is undefined; give it "
                                "a proper prior") from None
        raise EvidenceError(f"the model does not run on this data ({_first_line(error)}); "
                            "check the data's shape and that every value lies in the "
                            "observed site's support") from None
    return nodes


def refuse_partial_data(nodes: dict[str, Any]) -> None:
    """Refuse a model that scores only part of its data, or scales its log-density.

    The evidence is of the whole data set: a plate that subsamples (``subsample_size``) or
    a site scaled by ``poutine.scale`` changes the density being integrated, and AIS would
    return a number for a different model without a word.
    """
    for name, site in nodes.items():
        if site["type"] != "sample" or site_is_subsample(site):  # a plate's own site
            continue
        for frame in site["cond_indep_stack"]:
            if frame.full_size is not None and frame.size != frame.full_size:
                raise EvidenceError(
                    f"the plate {frame.name!r} subsamples {frame.size} of {frame.full_size} "
                    "datapoints: the evidence is of the whole data set; drop subsample_size "
                    "(or pass the subset itself as the data)")
        scale = site.get("scale", 1.0)
        if not isinstance(scale, torch.Tensor | float | int) or bool(
                torch.as_tensor(scale != 1.0).any()):
            raise EvidenceError(f"the site {name!r} scales its log-density (by {scale}): the "
                                "evidence of a scaled model is not a model's evidence; remove "
                                "poutine.scale")


def _first_line(error: Exception) -> str:
    """``Kind: message`` on one line; Pyro's "Error while ... at site 'x':" keeps its cause."""
    lines = [line.strip() for line in str(error).strip().splitlines() if line.strip()]
    text = " ".join(lines[:2]) if lines and lines[0].endswith(":") else "".join(lines[:1])
    return f"{type(error).__name__}: {text}"


def _sample_sites(nodes: dict[str, Any]) -> list[tuple[str, Any]]:
    return [(name, site) for name, site in nodes.items()
            if site["type"] == "sample" and not site_is_subsample(site)]


def _base(fn: Any) -> Any:
    while hasattr(fn, "base_dist"):
        fn = fn.base_dist
    return fn


class ModelLatents:
    r"""A model's latent sites, laid out as one unconstrained vector per chain.

    ``draw`` gives the start density's draws and ``ends`` the two end densities of the
    annealing path, :math:`\log p(x, \theta)` and :math:`\log p_0`, both in :math:`u`.
    """

    #: AIS may replay ``ends`` from a recording (:mod:`~pvae.anneal.recorded`)
    recordable = True

    def __init__(self, model: Any, x: torch.Tensor, chains: int, guide: Any = None) -> None:
        self.model, self.x, self.chains = model, x, chains
        sites = _sample_sites(traced_from_the_prior(model, x))
        latents = [(name, site) for name, site in sites if not site["is_observed"]]
        if not latents:
            raise EvidenceError("this model has no latent site: its evidence is its "
                                "likelihood; use pvae.exact")
        if not any(site["is_observed"] for _, site in sites):
            raise EvidenceError("this model observes nothing: pass the data it conditions on")
        for name, site in latents:
            _refuse_what_cannot_be_annealed(name, site["fn"])
        self.names = [name for name, _ in latents]
        self.nesting = max((-frame.dim for _, site in sites for frame in site["cond_indep_stack"]
                            if frame.vectorized and frame.dim is not None), default=0)
        #: None while the model broadcasts over the chains; else whether vmap runs them
        self.mapped: bool | None = None
        self.shapes: dict[str, torch.Size] = {}
        self.transforms: dict[str, Any] = {}
        state = random_state()
        try:
            nodes = self._broadcast(model)
        except EvidenceError as refusal:  # a model written for one value of its latents
            restore(state)  # the draws the failed run took are drawn again, the same
            nodes = self._unbatched(model, dict(latents), str(refusal).split(";")[0])
        self.dtype = nodes[self.names[0]]["value"].dtype
        self.size = sum(math.prod(shape[1:]) for shape in self.shapes.values())
        self.latent = _Flat((self.size,))
        self.start = (_PriorStart(self.flatten(nodes, "model")) if guide is None
                      else self._guide_start(guide))

    def _broadcast(self, model: Any) -> dict[str, Any]:
        """The model's prior draws under the plate of chains, all chains in one call."""
        traced = self._traced_in_chains(model, "model")
        for name in self.names:
            site = traced.nodes[name]
            self.transforms[name] = biject_to(site["fn"].support)
            value = self.transforms[name].inv(site["value"])
            if value.shape[:1] != (self.chains,):
                raise EvidenceError(f"the latent site {name!r} does not broadcast over a plate "
                                    "of chains left of the model's plates; write it with "
                                    "plates (pyro.plate) for its batch dimensions")
            self.shapes[name] = value.shape
        nodes: dict[str, Any] = traced.nodes
        return nodes

    def _unbatched(self, model: Any, latents: dict[str, Any], why: str) -> dict[str, Any]:
        """The chains of a model that does not broadcast: each runs it alone (:mod:`.chains`)."""
        self.recordable = False  # the per-chain program is not one fixed program of tensors
        sizes = {}
        for name, site in latents.items():
            self.transforms[name] = biject_to(site["fn"].support)
            self.shapes[name] = torch.Size((self.chains,
                                            *self.transforms[name].inv(site["value"]).shape))
            sizes[name] = site["value"].shape
        drawn = broadcast_draws(self._in_chains(model), self.x, self.names[-1])
        if drawn is not None and all(
                drawn[name]["value"].numel() == self.chains * math.prod(shape)
                for name, shape in sizes.items()):
            nodes = {name: {"value": drawn[name]["value"].reshape(self.chains, *shape)}
                     for name, shape in sizes.items()}
        else:
            nodes = draws_in_sequence(model, self.x, self.names, self.chains)
        values = {name: node["value"] for name, node in nodes.items()}
        self.mapped = choose_mapping(model, self.x, values, why)
        return nodes

    def _in_chains(self, fn: Any) -> Any:
        def run(*args: Any) -> Any:
            with pyro.plate("evidence_chains", self.chains, dim=-(self.nesting + 1)):
                return fn(*args)
        return run

    def _traced_in_chains(self, fn: Any, what: str) -> Any:
        try:
            with torch.no_grad():
                traced = poutine.trace(self._in_chains(fn)).get_trace(self.x)
        except Exception as error:  # noqa: BLE001 - a program that does not vectorise
            raise EvidenceError(f"the {what} does not run with a plate of {self.chains} chains "
                                f"left of its own plates ({_first_line(error)}); write its "
                                "arithmetic to broadcast over leading batch dimensions"
                                ) from None
        for name, site in _sample_sites(traced.nodes):
            if len(site["fn"].batch_shape) > self.nesting + 1:
                raise EvidenceError(
                    f"with a plate of chains, the {what}'s site {name!r} has batch shape "
                    f"{tuple(site['fn'].batch_shape)}: more batch dimensions than its plates "
                    f"({self.nesting} and the chains'); write it so that a latent's leading "
                    "batch dimensions broadcast (x * w, not x @ w.unsqueeze(-2))")
        return traced

    def flatten(self, nodes: dict[str, Any], what: str) -> torch.Tensor:
        """The latent sites' values in ``nodes``, unconstrained and flat: ``(chains, D)``."""
        parts = []
        for name in self.names:
            value = self.transforms[name].inv(nodes[name]["value"].detach())
            if value.shape != self.shapes[name]:
                raise EvidenceError(f"with a plate of {self.chains} chains, the {what}'s site "
                                    f"{name!r} has shape {tuple(value.shape)}, not the model's "
                                    f"{tuple(self.shapes[name])}; write it with plates "
                                    "(pyro.plate) for its batch dimensions")
            parts.append(value.reshape(self.chains, -1))
        return torch.cat(parts, -1)

    def constrained(self, z: torch.Tensor) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        r"""Each site's value :math:`T(u)` and the chains' :math:`\log \lvert \det J \rvert`."""
        flat = z.reshape(self.chains, -1)
        values, log_jacobian, start = {}, flat.new_zeros(self.chains), 0
        for name in self.names:
            shape = self.shapes[name]
            size = math.prod(shape[1:])
            unconstrained = flat[:, start:start + size].reshape(shape)
            start += size
            transform = self.transforms[name]
            values[name] = transform(unconstrained)
            jacobian = transform.log_abs_det_jacobian(unconstrained, values[name])
            log_jacobian = log_jacobian + jacobian.reshape(self.chains, -1).sum(-1)
        return values, log_jacobian

    def log_densities(self, fn: Any, values: dict[str, torch.Tensor]) -> tuple[torch.Tensor,
                                                                                torch.Tensor]:
        """``fn`` run on ``values``: the log-density of those sites and of the rest, per chain."""
        if self.mapped is not None:
            return per_chain_log_densities(fn, self.x, values, mapped=self.mapped)
        conditioned = poutine.condition(self._in_chains(fn), data=values)
        nodes: dict[str, Any] = poutine.trace(conditioned).get_trace(self.x).nodes
        given, rest = self.x.new_zeros(self.chains), self.x.new_zeros(self.chains)
        for name, site in _sample_sites(nodes):
            scaled = site["fn"].log_prob(site["value"])
            if site["mask"] is not None:
                scaled = scaled.masked_fill(~site["mask"], 0.0)
            if not (isinstance(site["scale"], float) and site["scale"] == 1.0):
                scaled = site["scale"] * scaled
            per_chain = (scaled.reshape(self.chains, -1).sum(-1)
                         if scaled.dim() and scaled.shape[0] == self.chains
                         else scaled.sum().expand(self.chains))
            if name in values:
                given = given + per_chain
            else:
                rest = rest + per_chain
        return given, rest

    def draw(self, k: int) -> torch.Tensor:
        """``k`` draws from the start density, unconstrained, ``(k, 1, D)``."""
        return self.start.draws[:k].unsqueeze(1)

    def ends(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        r""":math:`\log p(x, \theta)` and :math:`\log p_0` in :math:`u`, ``(chains, 1)``."""
        values, log_jacobian = self.constrained(z)
        prior, likelihood = self.log_densities(self.model, values)
        prior = prior + log_jacobian
        start = prior if isinstance(self.start, _PriorStart) else self.start.log_prob(z, values,
                                                                                     log_jacobian)
        return (prior + likelihood).unsqueeze(1), start.unsqueeze(1)

    def _guide_start(self, guide: Any) -> _PriorStart | _PackedStart | _GuideStart:
        if not callable(guide):
            raise TypeError(f"guide must be a Pyro guide to call; got {type(guide).__name__}")
        try:  # sets up an autoguide; forked, so that a seed gives the same draws after it
            with torch.no_grad(), torch.random.fork_rng(devices=[]):
                nodes = poutine.trace(guide).get_trace(self.x).nodes
        except Exception as error:  # noqa: BLE001 - a guide that does not run on this data
            raise EvidenceError(f"the guide does not run on this data ({_first_line(error)}); "
                                "pass the guide fitted to this model") from None
        if isinstance(guide, AutoNormal | AutoContinuous):
            return _PackedStart(self, guide)
        sites = dict(_sample_sites(nodes))
        if sorted(sites) != sorted(self.names):
            raise EvidenceError(f"the guide samples {sorted(sites)} but the model's latent sites "
                                f"are {sorted(self.names)}; a start density needs a guide with "
                                "exactly the model's latents (or an AutoNormal/AutoContinuous)")
        for name, site in sites.items():
            if type(_base(site["fn"])).__name__ == "Delta":
                raise EvidenceError(f"the guide's site {name!r} is a point mass (a Delta): it "
                                    "has no density to start from; fit a guide with one "
                                    "(AutoNormal), or start from the prior (guide=None)")
        nodes = (draws_in_sequence(guide, self.x, self.names, self.chains)
                 if self.mapped is not None else self._traced_in_chains(guide, "guide").nodes)
        return _GuideStart(self, guide, self.flatten(nodes, "guide"))


def _refuse_what_cannot_be_annealed(name: str, fn: Any) -> None:
    kind = type(_base(fn)).__name__
    if kind == "ImproperUniform" or not hasattr(fn, "support"):
        raise EvidenceError(f"the latent site {name!r} has an improper prior ({kind}): the "
                            "evidence is undefined; give it a proper prior")
    if fn.support.is_discrete:
        raise EvidenceError(f"the latent site {name!r} is discrete ({kind}): AIS moves "
                            "continuous latents only (pvae.evidence sums out global discrete "
                            "ones, evidence_bdmc cannot); sum it out in the model")


class _PriorStart:
    """The prior as the start density: its draws (its density is the model's own)."""

    def __init__(self, draws: torch.Tensor) -> None:
        self.draws = draws


class _GuideStart:
    r"""A guide over the model's own sites: :math:`\log q(T(u)) + \log \lvert \det J \rvert`."""

    def __init__(self, latents: ModelLatents, guide: Any, draws: torch.Tensor) -> None:
        self.latents, self.guide, self.draws = latents, guide, draws

    def log_prob(self, z: torch.Tensor, values: dict[str, torch.Tensor],
                 log_jacobian: torch.Tensor) -> torch.Tensor:
        given, _ = self.latents.log_densities(self.guide, values)
        return given + log_jacobian


class _PackedStart:
    r"""An ``AutoNormal`` or ``AutoContinuous`` guide: already a density over the flat ``u``.

    Read through Pyro's public attributes only: an ``AutoNormal``'s ``locs`` and ``scales``
    (modules holding one parameter per site, at its dotted name), an ``AutoContinuous``'s
    ``get_posterior`` and, for each site of its ``prototype_trace``, the shape of its
    unconstrained value :math:`T^{-1}(\theta)`.
    """

    def __init__(self, latents: ModelLatents, guide: Any) -> None:
        sites = list(guide.prototype_trace.iter_stochastic_nodes())  # set up by the guide's run
        names = [name for name, _ in sites]
        if names != latents.names:
            raise EvidenceError(f"the guide was set up on a model with latents {names}, not "
                                f"this model's {latents.names}; pass the guide fitted to it")
        if isinstance(guide, AutoContinuous):
            shapes = {name: biject_to(site["fn"].support).inv(site["value"]).shape
                      for name, site in sites}
            self.density = guide.get_posterior(latents.x)
            if type(_base(self.density)).__name__ == "Delta":  # AutoLaplaceApproximation
                raise EvidenceError(
                    f"the guide ({type(guide).__name__}) is a point mass (a Delta): it has no "
                    "density to start from; for a Laplace approximation pass "
                    "guide.laplace_approximation(x), or start from the prior (guide=None)")
        else:
            parts = [(attrgetter(name)(guide.locs), attrgetter(name)(guide.scales))
                     for name in latents.names]
            shapes = {name: loc.shape for name, (loc, _) in zip(latents.names, parts, strict=True)}
            self.density = dist.Normal(
                torch.cat([loc.reshape(-1) for loc, _ in parts]),
                torch.cat([scale.reshape(-1) for _, scale in parts])).to_event(1)
        sizes = {name: math.prod(shape) for name, shape in shapes.items()}
        wanted = {name: math.prod(latents.shapes[name][1:]) for name in latents.names}
        if list(sizes.items()) != list(wanted.items()):
            raise EvidenceError(f"the guide's latents {sizes} (sizes, in its order) are not the "
                                f"model's {wanted}; pass the guide fitted to this model")
        with torch.no_grad():
            draws = self.density.sample((latents.chains,))
        self.dtype = draws.dtype
        self.draws = draws.to(latents.x.device, latents.dtype)

    def log_prob(self, z: torch.Tensor, values: dict[str, torch.Tensor],
                 log_jacobian: torch.Tensor) -> torch.Tensor:
        flat = z.reshape(z.shape[0], -1)
        return self.density.log_prob(flat.to(self.dtype)).to(flat.dtype)
