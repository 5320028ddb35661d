r"""The lean trace: ``Trace_ELBO``'s estimator without its bookkeeping (a default-ELBO backend).

For a pair whose every latent site is reparameterised, ``Trace_ELBO`` computes

.. math:: \widehat{\mathcal L} = \sum_{\text{model sites}} s_i \log p(v_i \mid \dots)
          - \sum_{\text{guide sites}} s_j \log q(v_j \mid \dots),
          \qquad v_j = g_\phi(\varepsilon_j, x),

one draw :math:`\varepsilon` per latent, every site scaled by its :math:`s` (the plate's
``N / B``, a ``poutine.scale`` such as the KL weight) and masked by its mask, and
differentiates :math:`\widehat{\mathcal L}` itself. :class:`LeanTrace` computes it without
recording two full traces: one small effect handler keeps the guide's draws (and subsample
indices), puts them into the model and adds up the log-densities as the sites are made, so
the same random numbers are drawn in the same order. Its key is the **structure** the run saw
(:func:`~pvae.objectives.structure.site_key`). Argument validation is off on a lean run (a
checked structure's distributions were validated), but every observation is checked against
its support on every call (:func:`pvae.pair.surely_in_support`, then the distribution's own
check); data outside it is sent to ``Trace_ELBO`` to raise.
"""

from __future__ import annotations

import contextlib
import math
from typing import Any

import pyro
import torch
from pyro.distributions import constraints
from pyro.distributions.util import scale_and_mask
from pyro.infer.util import is_validation_enabled, torch_item
from pyro.poutine.messenger import Messenger
from pyro.poutine.util import site_is_subsample

from .._compat import store_tensor
from ..pair import surely_in_support
from .structure import guide_problem, site_key

__all__ = ["LeanTrace", "result_of"]

_STORE = pyro.get_param_store()  # Pyro's one global store


def result_of(method: str, loss: Any, retain_graph: bool | None, value: float | None = None, *,
              backward: bool = True) -> Any:
    """``method``'s result from a differentiable ``loss``: itself, or its value (after backward)."""
    if method == "differentiable_loss":
        return loss
    if (method == "loss_and_grads" and backward and isinstance(loss, torch.Tensor)
            and loss.requires_grad):
        loss.backward(retain_graph=retain_graph)
    return torch_item(loss) if value is None else value


class _NotHere(Exception):  # noqa: N818 (a signal, not an error)
    """The lean run met something only ``Trace_ELBO`` may judge (data outside the support)."""


class _Lean(Messenger):
    """Adds up a program's scaled log-densities as its sites are made, keeping the draws.

    ``replayed`` draws (the guide's) are put in at the latent sites of the same name. A
    ``PyroModule``'s ``pyro.param(name, p)`` of a ``p`` that is the store's own tensor under
    ``name`` is answered with ``p`` directly (what the store would hand back).
    """

    def __init__(self, check_support: bool, replayed: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.check_support, self.replayed = check_support, replayed or {}
        self.values: dict[str, Any] = {}
        self.structure: list[tuple[Any, ...]] = []
        self.saw_param = False
        self.other: list[torch.Tensor] = []  # sites with a mask or a tensor scale
        self.by_scale: dict[float, torch.Tensor] = {}  # sums of sites with a number as scale

    @property
    def total(self) -> torch.Tensor | float:
        """The sum of every site's scaled, masked log-density (0.0 without sites)."""
        terms = [summed if scale == 1 else scale * summed
                 for scale, summed in self.by_scale.items()] + self.other
        return sum(terms[1:], terms[0]) if terms else 0.0

    def _pyro_param(self, msg: Any) -> None:
        self.saw_param = True
        args = msg["args"]
        if (len(args) > 1 and isinstance(args[1], torch.nn.Parameter)
                and store_tensor(_STORE, args[0]) is args[1]
                and msg["kwargs"].get("constraint", constraints.real) is constraints.real):
            msg["value"], msg["done"] = args[1], True

    def _pyro_sample(self, msg: Any) -> None:
        if not msg["is_observed"] and msg["name"] in self.replayed:
            msg["value"], msg["done"] = self.replayed[msg["name"]], True

    def _pyro_post_sample(self, msg: Any) -> None:
        value = msg["value"]
        self.values[msg["name"]] = value
        if site_is_subsample(msg):
            return
        self.structure.append(site_key(msg))
        fn = msg["fn"]
        if self.check_support and msg["is_observed"] and not surely_in_support(fn, value):
            inside = fn.support.check(value) if isinstance(value, torch.Tensor) else None
            if inside is None or not bool(inside.all()):
                raise _NotHere
        log_prob = fn.log_prob(value, *msg["args"], **msg["kwargs"])
        scale = msg["scale"]
        if msg["mask"] is not None or not isinstance(scale, int | float):
            self.other.append(scale_and_mask(log_prob, scale, msg["mask"]).sum())
            return
        summed, before = log_prob.sum(), self.by_scale.get(scale)
        self.by_scale[scale] = summed if before is None else before + summed


class LeanTrace:
    """The lean trace as a backend: its key is the structure of the run it makes."""

    what = "the lean trace"

    @staticmethod
    def problem(model: Any, guide: Any) -> str | None:
        """Why no call of this pair can take the lean trace, or None."""
        return guide_problem(guide)

    @staticmethod
    def run(method: str, model: Any, guide: Any, args: Any, kwargs: Any, *,
            answer: Any = lambda key: True, retain_graph: bool | None = None
            ) -> tuple[Any, Any]:
        """``method``'s estimate and the structure seen: (result or None, structure or None).

        The result is None (no gradient accumulated) where ``answer(structure)`` is false or
        the loss is not finite; both are None where an observation is outside its support.
        """
        check = is_validation_enabled()
        try:
            with torch.no_grad() if method == "loss" else contextlib.nullcontext(), \
                    pyro.validation_enabled(False):
                with _Lean(check) as drawn:
                    guide(*args, **kwargs)
                with _Lean(check, replayed=drawn.values) as scored:
                    model(*args, **kwargs)
        except _NotHere:
            return None, None
        seen = (tuple(drawn.structure), tuple(scored.structure))
        if not answer(seen):
            return None, seen
        loss = -(scored.total - drawn.total)
        if not math.isfinite(value := torch_item(loss)):
            return None, seen
        # (Trace_ELBO's: no parameter, no backward)
        return result_of(method, loss, retain_graph, value,
                         backward=drawn.saw_param or scored.saw_param), seen
