r"""``Trace_ELBO``'s estimator with Pyro's bookkeeping paid only when a pair's structure is new.

For a pair whose every latent site is reparameterised, ``Trace_ELBO`` computes

.. math:: \widehat{\mathcal L} = \sum_{\text{model sites}} s_i \log p(v_i \mid \dots)
          - \sum_{\text{guide sites}} s_j \log q(v_j \mid \dots),
          \qquad v_j = g_\phi(\varepsilon_j, x),

one draw :math:`\varepsilon` per latent, every site scaled by its :math:`s` (the plate's
``N / B``, a ``poutine.scale`` such as the KL weight) and masked by its mask. Its gradient
is the gradient of :math:`\widehat{\mathcal L}` itself: no score-function term. To get it,
``Trace_ELBO`` records two full traces each step (a graph of every site, with its shapes
checked, its log-density stored and its plates' frames), prunes them and sums them up.

:class:`LeanTrace_ELBO` runs the same model and guide under one small effect handler
instead, which keeps the guide's draws (and its subsample indices), puts them into the
model and adds up the log-densities as the sites are made. The same random numbers are
drawn in the same order, so both compute the same value and the same gradient.

When it is exact, and how it makes sure (:mod:`pvae.objectives.structure`):

* A call whose **structure** (every site's name, kind, shapes, plates, ...) it has not seen
  is an ordinary ``Trace_ELBO`` call with Pyro's checks on; its traces say whether that
  structure is one the lean path computes exactly. The first call is always such a call.
* Every later call runs lean and records its structure as it goes, at a cost of
  microseconds; when the structure is not one already checked, or the loss is not finite,
  or the lean run raises, the random state is put back and the call is made again by
  ``Trace_ELBO`` — so its value, its errors and its warnings are ``Trace_ELBO``'s.
* Argument validation is off on the lean path (the distributions of a checked structure
  were validated), but every observed value is checked against its distribution's support
  on every call (by one or two reductions; Pyro's own check where those cannot vouch), so
  data outside a likelihood's support raises on any minibatch, as with ``Trace_ELBO``.
* A pair that cannot take the lean path — a ``GuideMessenger`` guide, a score-function
  term, an observed guide site, an enumerated site, a model latent the guide does not
  sample, several or vectorised particles, a structure that keeps changing — trains on
  ``Trace_ELBO`` from then on, and says why once, as an :class:`EagerPathWarning`.

Its one cost beyond ``Trace_ELBO``'s semantics: a call sent back to ``Trace_ELBO`` runs the
program twice, so side effects of the program itself (a batch-norm's running statistics,
Python's or NumPy's random numbers) happen twice on such a call.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from typing import Any

import pyro
import torch
from pyro.distributions import constraints
from pyro.distributions.util import scale_and_mask
from pyro.infer import Trace_ELBO
from pyro.infer.util import is_validation_enabled, torch_item
from pyro.poutine.messenger import Messenger
from pyro.poutine.util import site_is_subsample

from ..validation import check_positive_int
from .structure import guide_problem, in_support, lean_problem, site_key, trace_structure

__all__ = ["MAX_STRUCTURES", "EagerPathWarning", "LeanTrace_ELBO"]

#: distinct structures (a full and a partial minibatch are two) the lean path follows
MAX_STRUCTURES = 8

_STORE = pyro.get_param_store()  # Pyro's one global store


class EagerPathWarning(UserWarning):
    """A pair takes the eager ``Trace_ELBO`` path; the message says why."""


class _Retrace(Exception):  # noqa: N818 (a signal, not an error)
    """The lean run met something only ``Trace_ELBO`` may judge: run the call eagerly."""


class _Lean(Messenger):
    """Adds up a program's scaled log-densities as its sites are made, keeping the draws.

    Given ``replayed`` draws (the guide's, subsample indices included), it puts them in at
    the latent sites of the same name: that runs the model at the guide's draws. A
    ``PyroModule`` announces each ``nn.Parameter`` it reads with ``pyro.param(name, p)``;
    once ``p`` is registered under ``name`` the store would hand back ``p`` itself (its
    constraint is the real line), so the handler does that directly, without a look-up.
    """

    def __init__(self, check_support: bool, replayed: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.check_support = check_support
        self.replayed = replayed or {}
        self.values: dict[str, Any] = {}
        self.structure: list[tuple[Any, ...]] = []
        self.saw_param = False
        self.other: list[torch.Tensor] = []  # sites with a mask or a tensor scale
        # sites with a plain number as their scale (the plate's N / B, times the KL
        # weight): their sums are added up by scale, and each group is scaled once
        self.by_scale: dict[float, torch.Tensor] = {}

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
                and _STORE._params.get(args[0]) is args[1]  # the unconstrained tensors
                and msg["kwargs"].get("constraint", constraints.real) is constraints.real):
            msg["value"] = args[1]
            msg["done"] = True

    def _pyro_sample(self, msg: Any) -> None:
        if not msg["is_observed"] and msg["name"] in self.replayed:
            msg["value"] = self.replayed[msg["name"]]
            msg["done"] = True

    def _pyro_post_sample(self, msg: Any) -> None:
        value = msg["value"]
        self.values[msg["name"]] = value
        if site_is_subsample(msg):
            return
        self.structure.append(site_key(msg))
        fn = msg["fn"]
        if self.check_support and msg["is_observed"] and not in_support(fn, value):
            raise _Retrace  # Trace_ELBO's own check says whether, and how, it is wrong
        log_prob = fn.log_prob(value, *msg["args"], **msg["kwargs"])
        scale = msg["scale"]
        if msg["mask"] is not None or not isinstance(scale, int | float):
            self.other.append(scale_and_mask(log_prob, scale, msg["mask"]).sum())
            return
        summed = log_prob.sum()
        before = self.by_scale.get(scale)
        self.by_scale[scale] = summed if before is None else before + summed


class LeanTrace_ELBO(Trace_ELBO):  # noqa: N801 (Pyro's spelling of its ELBO classes)
    """``Trace_ELBO`` with one particle, traced fully only when the pair's structure is new.

    A drop-in ``Trace_ELBO``: ``SVI(model, guide, optim, LeanTrace_ELBO())`` works as with
    Pyro's own, and gives its values, gradients, errors and warnings. See the module's
    docstring for what it computes, what it checks on every call and when it falls back.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        check_positive_int(self.num_particles, "num_particles")
        #: None until a pair is seen; "" while calls take the lean path, else why not
        self.eager_reason: str | None = None
        if self.num_particles != 1:  # said on the first call
            self.eager_reason = f"{self.num_particles} particles (the lean path draws one)"
        elif self.vectorize_particles:
            self.eager_reason = "vectorised particles (the lean path draws one, unvectorised)"
        self._warned = False
        #: how many calls took each path
        self.lean_calls = self.eager_calls = 0
        self._known: set[tuple[Any, ...]] = set()
        self._learning = False  # an eager call whose traces are being read
        self._seen: Any = None  # the structure the lean run of that call saw, if any

    @property
    def lean(self) -> bool:
        """Whether calls of structures already checked take the lean path."""
        return self.eager_reason == ""

    def _eager(self, reason: str) -> None:
        """Train on ``Trace_ELBO`` from now on; say why, once."""
        self.eager_reason = reason
        if not self._warned:
            self._warned = True
            warnings.warn(f"pvae: this pair trains on the eager Trace_ELBO path: {reason}",
                          EagerPathWarning, stacklevel=5)

    def _get_trace(self, model: Any, guide: Any, args: Any, kwargs: Any) -> Any:
        """Trace_ELBO's traces; on a learning call they also judge their structure."""
        model_trace, guide_trace = super()._get_trace(model, guide, args, kwargs)
        if self._learning:
            self._learning = False
            self._judge(model_trace, guide_trace)
        return model_trace, guide_trace

    def _judge(self, model_trace: Any, guide_trace: Any) -> None:
        problem = lean_problem(model_trace, guide_trace)
        if problem is not None:
            self._eager(problem)
            return
        structure = (trace_structure(guide_trace), trace_structure(model_trace))
        if structure in self._known:
            if self._seen is not None and self._seen != structure:
                self._eager("the lean handler sees this pair's sites differently from "
                            "Trace_ELBO (an effect handler it does not know?)")
            return
        if len(self._known) >= MAX_STRUCTURES:
            self._eager(f"its sites change from call to call (more than {MAX_STRUCTURES} "
                        "structures)")
            return
        self._known.add(structure)
        self.eager_reason = ""

    def _call(self, method: str, model: Any, guide: Any, args: Any, kwargs: Any) -> Any:
        """Run ``method`` lean where that is exact, else as ``Trace_ELBO`` runs it."""
        eager = getattr(super(), method)
        if self.eager_reason is None:
            reason = guide_problem(guide)
            if reason is not None:
                self._eager(reason)
        elif self.eager_reason and not self._warned:  # a reason the constructor found
            self._eager(self.eager_reason)
        if self.eager_reason or not self._known:
            return self._learn(eager, None, model, guide, args, kwargs)
        state = torch.get_rng_state()
        cuda = torch.cuda.get_rng_state_all() if torch.cuda.is_initialized() else None
        try:
            result, seen = self._lean_call(method, model, guide, args, kwargs)
        except Exception:  # noqa: BLE001 (_Retrace, or what Trace_ELBO's own run judges)
            result, seen = None, None
        if result is not None:
            self.lean_calls += 1
            return result
        torch.set_rng_state(state)
        if cuda is not None:
            torch.cuda.set_rng_state_all(cuda)
        return self._learn(eager, seen, model, guide, args, kwargs)

    def _learn(self, eager: Any, seen: Any, model: Any, guide: Any, args: Any,
               kwargs: Any) -> Any:
        """An eager call; unless the pair is eager for good, its traces judge its structure."""
        self._learning, self._seen = not self.eager_reason, seen
        self.eager_calls += 1
        try:
            return eager(model, guide, *args, **kwargs)
        finally:
            self._learning = False

    def _lean_call(self, method: str, model: Any, guide: Any, args: Any,
                   kwargs: Any) -> tuple[Any, Any]:
        """The lean result, or None (and the structure seen) where Trace_ELBO must judge."""
        check = is_validation_enabled()
        with torch.no_grad() if method == "loss" else contextlib.nullcontext():
            with pyro.validation_enabled(False):
                with _Lean(check) as drawn:
                    guide(*args, **kwargs)
                with _Lean(check, replayed=drawn.values) as scored:
                    model(*args, **kwargs)
            seen = (tuple(drawn.structure), tuple(scored.structure))
            if seen not in self._known:
                return None, seen
            loss = -(scored.total - drawn.total)
        value = torch_item(loss)
        if not math.isfinite(value):
            return None, seen
        if method == "loss":
            return value, seen
        if method == "differentiable_loss":
            return loss, seen
        if ((drawn.saw_param or scored.saw_param) and isinstance(loss, torch.Tensor)
                and loss.requires_grad):  # Trace_ELBO's rule: no parameter, no backward
            loss.backward(retain_graph=self.retain_graph)
        return value, seen

    def loss(self, model: Any, guide: Any, *args: Any, **kwargs: Any) -> float:
        """Minus the ELBO estimate, as a float (``Trace_ELBO.loss``)."""
        return self._call("loss", model, guide, args, kwargs)

    def differentiable_loss(self, model: Any, guide: Any, *args: Any,
                            **kwargs: Any) -> torch.Tensor:
        """Minus the ELBO estimate, differentiable (``Trace_ELBO.differentiable_loss``)."""
        return self._call("differentiable_loss", model, guide, args, kwargs)

    def loss_and_grads(self, model: Any, guide: Any, *args: Any, **kwargs: Any) -> float:
        """Minus the ELBO estimate; its gradient is accumulated into the parameters."""
        return self._call("loss_and_grads", model, guide, args, kwargs)
