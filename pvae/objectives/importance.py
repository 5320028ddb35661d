r"""The importance-weighted bound as a training objective, exact under minibatch scaling.

For datapoint :math:`x_i` and :math:`k` draws :math:`z_{i1}, \dots, z_{ik} \sim q(z \mid x_i)`,

.. math:: \log w_{ij} = \log p(x_i \mid z_{ij})
          + \beta \left[\log p(z_{ij}) - \log q(z_{ij} \mid x_i)\right],

from the pair's traces: each site's log-density *unscaled* but masked, times its scale
relative to the data plate's (:math:`\beta`, the KL weight, for a latent; :math:`\beta = 1`
is the IWAE of Burda et al., 2016). A minibatch :math:`B` of :math:`N` rows gives
:math:`\frac NB \sum_{i \in B} \log \frac1k \sum_j w_{ij}`, the :math:`N / B` applied *after*
the log-mean-exp (Pyro's ``RenyiELBO`` applies it to every log-density, which bounds nothing
once :math:`N / B \ne 1`): divided by :math:`N`, minus the mean per-datapoint IWAE-:math:`k`.

Gradients: ``"dreg"`` (the default), doubly reparameterised (Tucker et al., 2019): the
model's parameters get :math:`\sum_j \tilde w_j \nabla_\theta \log w_j` (:math:`\tilde w` the
normalised weights), the guide's :math:`\sum_j \big[(1 - \beta)\tilde w_j + \beta \tilde
w_j^2\big] \frac{\partial \log w_j}{\partial z_j} \frac{\partial z_j}{\partial \phi}` with
:math:`\log q` differentiated through its sample only: unbiased, and the guide's signal no
longer fades as :math:`k` grows (at :math:`k = 1`, sticking the landing). ``"plain"``: the
reparameterised gradient of the bound. ``bound="elbo"`` is the ELBO averaged over :math:`k`
particles with the sticking-the-landing gradient (Roeder et al., 2017), which drops a term of
zero mean.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from pyro import poutine
from pyro.infer.util import is_validation_enabled
from pyro.poutine.util import prune_subsample_sites
from pyro.util import check_model_guide_match, check_site_shape
from torch import Tensor

from .._compat import TracedELBO
from ..pair import DATA_SCALE
from ..validation import check_positive_int

__all__ = ["MAX_PARTICLES", "ImportanceWeightedELBO", "ObjectiveError"]

#: particles an objective may draw per datapoint: far more than any useful bound needs
MAX_PARTICLES = 100_000
PARTICLES = "num_particles_vectorized"  # the name of Pyro's plate of particles
GRADIENTS = {"iwae": ("dreg", "plain"), "elbo": ("stl",)}


class ObjectiveError(ValueError):
    """A pair this objective cannot score: the message says what and what to use instead."""


def _data_scale(site: Any) -> float:
    """The N / B by which minibatching scales a site: its subsampled plates' and pvae's mark."""
    scale = site["infer"].get(DATA_SCALE, 1.0)
    for frame in site["cond_indep_stack"]:
        if frame.full_size is not None and frame.full_size != frame.size:
            scale = scale * frame.full_size / frame.size
    return scale


def _relative_scale(site: Any) -> Any:
    """A site's scale relative to its minibatch scale (the KL weight, for a latent)."""
    return site["scale"] / _data_scale(site)


class ImportanceWeightedELBO(TracedELBO):
    r"""The IWAE-``k`` bound per datapoint (``bound="iwae"``), or the ELBO with STL.

    ``k`` particles per datapoint; ``bound="iwae"`` is :math:`\log \frac1k \sum_j w_j` per
    datapoint, ``"elbo"`` the mean of :math:`\log w_j`, any latent allowed; ``gradient`` is
    ``"dreg"`` or ``"plain"`` for the first, ``"stl"`` for the second (the module's docstring).
    """

    def __init__(self, k: int = 5, bound: str = "iwae", gradient: str | None = None,
                 max_plate_nesting: float = float("inf")) -> None:
        self.k = check_positive_int(k, "k")
        if self.k > MAX_PARTICLES:
            raise ObjectiveError(f"k={k} particles per datapoint would take memory in "
                                 f"proportion; at most {MAX_PARTICLES} are allowed (IWAE's "
                                 "gain from k is logarithmic: k of 5 to 5000 is usual)")
        if bound not in GRADIENTS:
            raise ObjectiveError(f"bound must be 'iwae' or 'elbo'; got {bound!r}")
        gradient = GRADIENTS[bound][0] if gradient is None else gradient
        if gradient not in GRADIENTS[bound]:
            raise ObjectiveError(f"the {bound} bound takes gradient "
                                 f"{' or '.join(map(repr, GRADIENTS[bound]))}; got {gradient!r}")
        self.bound, self.gradient = bound, gradient
        super().__init__(num_particles=self.k, vectorize_particles=True,
                         max_plate_nesting=max_plate_nesting)

    def make_traces(self, model: Any, guide: Any, args: Any, kwargs: Any) -> Any:
        """One particle's traces, with each model site's unscaled log-density."""
        guide_trace = poutine.trace(guide).get_trace(*args, **kwargs)
        model_trace = poutine.trace(poutine.replay(model, trace=guide_trace)).get_trace(
            *args, **kwargs)
        if is_validation_enabled():
            check_model_guide_match(model_trace, guide_trace, self.max_plate_nesting)
        guide_trace, model_trace = (prune_subsample_sites(guide_trace),
                                    prune_subsample_sites(model_trace))
        for site in model_trace.nodes.values():
            if site["type"] == "sample":
                node: Any = site
                node["unscaled_log_prob"] = node["fn"].log_prob(node["value"], *node["args"],
                                                                **node["kwargs"])
                if is_validation_enabled():
                    check_site_shape({**node, "log_prob": node["unscaled_log_prob"]},
                                     self.max_plate_nesting)
        return model_trace, guide_trace

    def _sites(self, model_trace: Any, guide_trace: Any) -> tuple[list, list, Any]:
        """The model's and the guide's sample sites, and the guide's latent site (or None)."""
        model_sites = [s for s in model_trace.nodes.values() if s["type"] == "sample"]
        guide_sites = [s for s in guide_trace.nodes.values() if s["type"] == "sample"]
        for site in model_sites + guide_sites:
            if site["infer"].get("enumerate"):
                raise ObjectiveError(f"the site {site['name']!r} enumerates; the importance-"
                                     "weighted objective samples every latent")
        for site in guide_sites:
            if site["is_observed"] or not site["fn"].has_rsample:
                raise ObjectiveError(
                    f"the guide's site {site['name']!r} is "
                    + ("observed" if site["is_observed"] else "not reparameterised (no rsample)")
                    + ": the importance-weighted objective needs a reparameterised guide; use "
                    "objective='elbo' (Trace_ELBO) for score-function gradients")
        latent = None
        if self.gradient in ("dreg", "stl"):
            if len(guide_sites) != 1:
                instead = "gradient='plain'" if self.bound == "iwae" else "objective='elbo'"
                raise ObjectiveError(
                    f"gradient={self.gradient!r} is written for a guide with one latent site; "
                    f"this one has {len(guide_sites)} ({[s['name'] for s in guide_sites]}). "
                    f"Use {instead}")
            latent = guide_sites[0]
        for site in model_sites:
            if not site["is_observed"] and site["name"] not in guide_trace.nodes:
                raise ObjectiveError(f"the model's latent site {site['name']!r} is not sampled "
                                     "by the guide")
        return model_sites, guide_sites, latent

    def _data_plate(self, guide_sites: list) -> Any:
        """The plate over datapoints: the one every latent site is inside."""
        common = None
        for site in guide_sites:
            frames = {f.name: f for f in site["cond_indep_stack"] if f.name != PARTICLES}
            common = frames if common is None else {n: f for n, f in common.items() if n in frames}
        if not common:
            raise ObjectiveError(
                "the importance-weighted bound is one per datapoint, and this pair's latent "
                f"{'sites are' if guide_sites else 'site is'} not inside a plate over the data "
                "(a global latent): the per-datapoint bound is undefined. Use objective="
                "'elbo', or pvae.iwae only for models with one latent per datapoint")
        return common.get("data") or min(common.values(), key=lambda f: f.dim)

    def _per_datapoint(self, site: Any, log_prob: Tensor, plate: Any) -> Tensor:
        """A site's log-density, relative scale applied, summed to (k, B)."""
        if all(f.name != plate.name for f in site["cond_indep_stack"]):
            raise ObjectiveError(f"the site {site['name']!r} is outside the data plate "
                                 f"{plate.name!r}: the per-datapoint bound needs every site of "
                                 "a datapoint inside its plate")
        nesting = self.max_plate_nesting  # the particles' plate included, outermost
        while log_prob.dim() < nesting:
            log_prob = log_prob.unsqueeze(0)
        data_dim = log_prob.dim() + plate.dim
        others = [d for d in range(log_prob.dim()) if d not in (0, data_dim)]
        summed = log_prob.sum(others) if others else log_prob  # sum([]) would sum them all
        return summed.expand(self.k, plate.size)

    @staticmethod
    def _log_prob(site: Any, value: Tensor | None = None) -> Tensor:
        """A site's log-density at its value (or ``value``), masked but not scaled."""
        if value is None and "unscaled_log_prob" in site:
            log_prob = site["unscaled_log_prob"]
        else:
            value = site["value"] if value is None else value
            log_prob = site["fn"].log_prob(value, *site["args"], **site["kwargs"])
        mask = site["mask"]
        if mask is None:
            return log_prob
        return torch.where(mask, log_prob, log_prob.new_zeros(())) \
            if isinstance(mask, torch.Tensor) else log_prob * float(mask)

    def _kl_weight(self, model_sites: list, guide_sites: list) -> Any:
        """The latent sites' relative scale, the same in the model and the guide."""
        guide_scales = {s["name"]: _relative_scale(s) for s in guide_sites}
        weights = set()
        for site in model_sites:
            if site["name"] in guide_scales:
                ours, theirs = _relative_scale(site), guide_scales[site["name"]]
                if isinstance(ours, torch.Tensor) or isinstance(theirs, torch.Tensor) or \
                        not math.isclose(ours, theirs, rel_tol=1e-12):
                    raise ObjectiveError(
                        f"the latent site {site['name']!r} has scale {ours} in the model and "
                        f"{theirs} in the guide: a KL weight scales both alike")
                weights.add(ours)
        if len(weights) > 1:
            raise ObjectiveError(f"the latent sites have different KL weights {sorted(weights)}")
        return weights.pop() if weights else 1.0

    def _terms(self, model: Any, guide: Any, args: Any, kwargs: Any) -> tuple[Tensor, Tensor]:
        """The loss (minus the bound, N / B applied) and its surrogate for gradients."""
        ((model_trace, guide_trace),) = self.traces(model, guide, args, kwargs)
        model_sites, guide_sites, latent = self._sites(model_trace, guide_trace)
        beta = self._kl_weight(model_sites, guide_sites)
        if self.bound == "elbo":
            return self._elbo_terms(model_sites, guide_sites, latent)
        plate = self._data_plate(guide_sites)
        scales = {_data_scale(s) for s in model_sites + guide_sites}
        if len(scales) != 1:
            raise ObjectiveError(f"the data plate's sites are scaled by different N / B "
                                 f"{sorted(scales)}")
        data_scale = scales.pop()

        def per_datapoint(site: Any, value: Tensor | None = None) -> Tensor:
            log_prob = self._log_prob(site, value) * _relative_scale(site)
            return self._per_datapoint(site, log_prob, plate)

        log_w = (torch.stack([per_datapoint(s) for s in model_sites]).sum(0)
                 - torch.stack([per_datapoint(s) for s in guide_sites]).sum(0))
        bound = torch.logsumexp(log_w, 0) - math.log(self.k)
        loss = -data_scale * bound.sum()
        if latent is None:  # plain: the gradient of the bound itself
            return loss, loss
        # DReG: log q differentiated through its sample only
        z = latent["value"]
        sticking = log_w + per_datapoint(latent, z.detach())
        weights = torch.softmax(log_w.detach(), 0)
        factor = (1 - beta) + beta * weights  # on the gradient that reaches z
        if z.requires_grad:
            shape = [1] * (z.dim() - len(latent["fn"].event_shape))
            shape[0], shape[len(shape) + plate.dim] = self.k, plate.size
            factor = factor.reshape(shape + [1] * len(latent["fn"].event_shape))
            z.register_hook(lambda grad: grad * factor)
        surrogate = -data_scale * (weights * sticking).sum()
        return loss, surrogate

    def _elbo_terms(self, model_sites: list, guide_sites: list, latent: Any
                    ) -> tuple[Tensor, Tensor]:
        """The ELBO over k particles, with the sticking-the-landing surrogate."""
        def total(site: Any, value: Tensor | None = None) -> Tensor:
            return (self._log_prob(site, value) * site["scale"]).sum()

        elbo = (torch.stack([total(s) for s in model_sites]).sum()
                - torch.stack([total(s) for s in guide_sites]).sum()) / self.k
        sticking = elbo + total(latent, latent["value"].detach()) / self.k
        return -elbo, -sticking

    def loss(self, model: Any, guide: Any, *args: Any, **kwargs: Any) -> float:
        """Minus the bound (N / B applied), as a float."""
        with torch.no_grad():
            loss, _ = self._terms(model, guide, args, kwargs)
        return float(loss.detach())

    def differentiable_loss(self, model: Any, guide: Any, *args: Any, **kwargs: Any) -> Tensor:
        """Minus the bound, whose gradient is the chosen estimator's."""
        loss, surrogate = self._terms(model, guide, args, kwargs)
        return loss.detach() + (surrogate - surrogate.detach())

    def loss_and_grads(self, model: Any, guide: Any, *args: Any, **kwargs: Any) -> float:
        """Minus the bound; the estimator's gradient is accumulated into the parameters."""
        loss, surrogate = self._terms(model, guide, args, kwargs)
        if surrogate.requires_grad:
            surrogate.backward()
        return float(loss.detach())
