r"""``Trace_ELBO``'s estimator with Pyro's bookkeeping paid once, on the first step.

For a pair whose every latent site is reparameterised, ``Trace_ELBO`` computes

.. math:: \widehat{\mathcal L} = \sum_{\text{model sites}} s_i \log p(v_i \mid \dots)
          - \sum_{\text{guide sites}} s_j \log q(v_j \mid \dots),
          \qquad v_j = g_\phi(\varepsilon_j, x),

one draw :math:`\varepsilon` per latent, every site scaled by its :math:`s` (the plate's
``N / B``, a ``poutine.scale`` such as the KL weight) and masked by its mask. Its gradient
is the gradient of :math:`\widehat{\mathcal L}` itself: no score-function term. To get it,
``Trace_ELBO`` records two full traces each step (a graph of every site, with its shapes
checked, its log-density stored and its plates' frames), prunes them and sums them up.

:class:`LeanTrace_ELBO` runs the same model and guide, under two small effect handlers
instead: one keeps the guide's draws and adds up their log-densities as they are made, the
other puts those draws into the model and adds up its log-densities. The same random
numbers are drawn in the same order, so both compute the same value and the same gradient.

The first call for a pair is an ordinary ``Trace_ELBO`` call, with Pyro's checks on; it
also decides whether the pair can take the lean path. One that cannot — a latent site
without ``rsample`` (its gradient needs a score-function term), an enumerated site, a
model latent the guide does not sample, several particles — stays on ``Trace_ELBO`` for
good, and says why once, as a :class:`EagerPathWarning`. Later calls switch argument
validation off: the first call has already validated the pair's distributions.
"""

from __future__ import annotations

import warnings
from typing import Any

import pyro
import torch
from pyro.distributions import constraints
from pyro.distributions.util import scale_and_mask
from pyro.infer import Trace_ELBO
from pyro.infer.util import torch_item
from pyro.poutine.messenger import Messenger
from pyro.poutine.util import site_is_subsample

__all__ = ["EagerPathWarning", "LeanTrace_ELBO", "lean_path_problem"]


class EagerPathWarning(UserWarning):
    """A pair takes the eager ``Trace_ELBO`` path; the message says why."""


def _log_density(msg: Any) -> torch.Tensor:
    """A site's log-density, scaled and masked as ``Trace_ELBO`` scales it, summed."""
    return scale_and_mask(msg["fn"].log_prob(msg["value"]), msg["scale"], msg["mask"]).sum()


_STORE = pyro.get_param_store()  # Pyro's one global store


class _Lean(Messenger):
    """Adds up a program's scaled log-densities as its sites are drawn, keeping the draws.

    Given ``replayed`` draws (the guide's), it puts them in at the latent sites of the same
    name: that runs the model at the guide's draws. A ``PyroModule`` announces each
    ``nn.Parameter`` it reads with ``pyro.param(name, p)``; once the first step has
    registered ``p`` under ``name`` the store would hand back ``p`` itself (its constraint
    is the real line), so the handler does that directly, without a look-up.
    """

    def __init__(self, replayed: dict[str, torch.Tensor] | None = None) -> None:
        super().__init__()
        self.replayed = replayed or {}
        self.values: dict[str, torch.Tensor] = {}
        self.other: list[torch.Tensor] = []  # sites with a mask or a tensor scale
        # sites with a plain number as their scale (the plate's N / B, times the KL
        # weight): their sums are added up by scale, and each group is scaled once
        self.by_scale: dict[float, torch.Tensor] = {}

    @property
    def total(self) -> Any:
        """The sum of every site's scaled, masked log-density."""
        terms = [summed if scale == 1 else scale * summed
                 for scale, summed in self.by_scale.items()] + self.other
        return sum(terms[1:], terms[0]) if terms else 0.0

    def _pyro_param(self, msg: Any) -> None:
        args = msg["args"]
        if (len(args) > 1 and isinstance(args[1], torch.nn.Parameter)
                and _STORE._params.get(args[0]) is args[1]  # the unconstrained tensors
                and msg["kwargs"].get("constraint", constraints.real) is constraints.real):
            msg["value"] = args[1]
            msg["done"] = True

    def _pyro_sample(self, msg: Any) -> None:
        if not msg["is_observed"] and msg["name"] in self.replayed:
            msg["value"] = self.replayed[msg["name"]]
            msg["done"] = True

    def _pyro_post_sample(self, msg: Any) -> None:
        if site_is_subsample(msg):
            return
        self.values[msg["name"]] = msg["value"]
        scale = msg["scale"]
        if msg["mask"] is not None or not isinstance(scale, int | float):
            self.other.append(_log_density(msg))
            return
        summed = msg["fn"].log_prob(msg["value"]).sum()
        before = self.by_scale.get(scale)
        self.by_scale[scale] = summed if before is None else before + summed


def lean_path_problem(model_trace: Any, guide_trace: Any) -> str | None:
    """Why a pair (seen through one step's traces) cannot take the lean path, or None."""
    guide_sites = {}
    for name, site in guide_trace.nodes.items():
        if site["type"] != "sample" or site_is_subsample(site):
            continue
        guide_sites[name] = site
        if site["infer"].get("enumerate"):
            return f"the guide enumerates its site {name!r}"
        if not site["is_observed"] and not getattr(site["fn"], "has_rsample", False):
            return (f"the guide's site {name!r} ({type(site['fn']).__name__}) has no rsample: "
                    "its gradient needs a score-function term")
    for name, site in model_trace.nodes.items():
        if site["type"] != "sample" or site_is_subsample(site) or site["is_observed"]:
            continue
        if site["infer"].get("enumerate"):
            return f"the model enumerates its site {name!r}"
        if name not in guide_sites:
            return f"the model's latent site {name!r} is not sampled by the guide"
    return None


class LeanTrace_ELBO(Trace_ELBO):  # noqa: N801 (Pyro's spelling of its ELBO classes)
    """``Trace_ELBO`` with one particle, traced fully on the first call only.

    A drop-in ``Trace_ELBO``: ``SVI(model, guide, optim, LeanTrace_ELBO())`` works as with
    Pyro's own. See the module's docstring for what it computes and when it falls back.
    The first call decides for the pair it sees, so use one instance per pair, whose sites
    do not change from call to call (what a compiled objective assumes too).
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        #: None until the first call; then "" on the lean path, else why not
        self.eager_reason: str | None = None if self.num_particles == 1 else (
            f"{self.num_particles} particles (the lean path draws one)")

    @property
    def lean(self) -> bool:
        """Whether calls after the first take the lean path."""
        return self.eager_reason == ""

    def _get_trace(self, model: Any, guide: Any, args: Any, kwargs: Any) -> Any:
        """Trace_ELBO's traces; the first ones also decide the path (no extra draws)."""
        model_trace, guide_trace = super()._get_trace(model, guide, args, kwargs)
        if self.eager_reason is None:
            reason = lean_path_problem(model_trace, guide_trace)
            self.eager_reason = reason or ""
            if reason:
                warnings.warn(f"pvae: this pair trains on the eager Trace_ELBO path: {reason}",
                              EagerPathWarning, stacklevel=5)
        return model_trace, guide_trace

    def _lean_loss(self, model: Any, guide: Any, *args: Any, **kwargs: Any) -> torch.Tensor:
        """Minus the single-sample ELBO, differentiable, without traces."""
        with pyro.validation_enabled(False):
            with _Lean() as draws:
                guide(*args, **kwargs)
            with _Lean(replayed=draws.values) as scored:
                model(*args, **kwargs)
        return -(scored.total - draws.total)

    def loss(self, model: Any, guide: Any, *args: Any, **kwargs: Any) -> float:
        """Minus the ELBO estimate, as a float (``Trace_ELBO.loss``)."""
        if not self.lean:
            return super().loss(model, guide, *args, **kwargs)
        with torch.no_grad():
            return torch_item(self._lean_loss(model, guide, *args, **kwargs))

    def differentiable_loss(self, model: Any, guide: Any, *args: Any,
                            **kwargs: Any) -> torch.Tensor:
        """Minus the ELBO estimate, differentiable (``Trace_ELBO.differentiable_loss``)."""
        if not self.lean:
            return super().differentiable_loss(model, guide, *args, **kwargs)
        return self._lean_loss(model, guide, *args, **kwargs)

    def loss_and_grads(self, model: Any, guide: Any, *args: Any, **kwargs: Any) -> float:
        """Minus the ELBO estimate; its gradient is accumulated into the parameters."""
        if not self.lean:
            return super().loss_and_grads(model, guide, *args, **kwargs)
        loss = self._lean_loss(model, guide, *args, **kwargs)
        if loss.requires_grad:
            loss.backward(retain_graph=self.retain_graph)
        return torch_item(loss)
