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

from ..pair import buffers_kept
from ..validation import check_bool, check_positive_int
from .closed_calls import ClosedFormCalls
from .random_state import random_state as _random_state
from .random_state import restore as _restore
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
            self._exact_support_check(fn, value)
        log_prob = fn.log_prob(value, *msg["args"], **msg["kwargs"])
        scale = msg["scale"]
        if msg["mask"] is not None or not isinstance(scale, int | float):
            self.other.append(scale_and_mask(log_prob, scale, msg["mask"]).sum())
            return
        summed = log_prob.sum()
        before = self.by_scale.get(scale)
        self.by_scale[scale] = summed if before is None else before + summed


    @staticmethod
    def _exact_support_check(fn: Any, value: Any) -> None:
        """The distribution's own check; a failure is Trace_ELBO's to report, in its words."""
        try:
            fn._validate_sample(value)
        except (AttributeError, ValueError):
            raise _Retrace from None


class LeanTrace_ELBO(ClosedFormCalls, Trace_ELBO):  # noqa: N801 (Pyro's spelling)
    """``Trace_ELBO`` with one particle, traced fully only when the pair's structure is new.

    A drop-in ``Trace_ELBO``: ``SVI(model, guide, optim, LeanTrace_ELBO())`` works as with
    Pyro's own, and gives its values, gradients, errors and warnings. See the module's
    docstring for what it computes, what it checks on every call and when it falls back.
    A model with a closed form (a pvae VAE's usual parts) is computed in it once checked
    (:mod:`pvae.objectives.closed_calls`); ``compiled=True`` compiles that closed form.
    """

    def __init__(self, *, compiled: bool = False, **kwargs: Any) -> None:
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
        self._judging = False  # a Trace_ELBO call whose traces judge their structure
        self._drawn_from: Any = None  # the random state its draws started from
        self._lean_from: Any = None  # the random state the last lean run started from
        self._closed_setup(check_bool(compiled, "compiled"))

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
        """Trace_ELBO's traces; on a judging call they also judge their structure."""
        if self._judging:  # the random state after a first call's guess of the nesting
            self._drawn_from = _random_state()
        model_trace, guide_trace = super()._get_trace(model, guide, args, kwargs)
        if self._judging:
            self._judging = False
            self._judge(model_trace, guide_trace)
        return model_trace, guide_trace

    def _judge(self, model_trace: Any, guide_trace: Any) -> None:
        """Take the structure of these traces, or make the pair eager (said by the caller)."""
        problem = lean_problem(model_trace, guide_trace)
        if problem is not None:
            self.eager_reason = problem
        elif len(self._known) >= MAX_STRUCTURES:
            self.eager_reason = (f"its sites change from call to call (more than "
                                 f"{MAX_STRUCTURES} structures)")
        else:
            self._known.add((trace_structure(guide_trace), trace_structure(model_trace)))
            self.eager_reason = ""

    def _call(self, method: str, model: Any, guide: Any, args: Any, kwargs: Any) -> Any:
        """Run ``method`` in closed form, else lean, else as ``Trace_ELBO`` runs it."""
        result = self._closed_result(method, model, guide, args, kwargs)
        if result is not None:
            return result
        return self._traced_call(method, model, guide, args, kwargs)

    def _traced_call(self, method: str, model: Any, guide: Any, args: Any,
                     kwargs: Any) -> Any:
        """Run ``method`` lean where that is exact, else as ``Trace_ELBO`` runs it.

        Trace_ELBO judges every structure the first time it is seen (and raises or warns as
        it does); the value of a structure it finds lean-exact is always the lean one, so
        that a run's numbers do not depend on when a structure was first met.
        """
        eager = getattr(super(), method)
        if self.eager_reason is None:
            reason = guide_problem(guide)
            if reason is not None:
                self._eager(reason)
        elif self.eager_reason and not self._warned:  # a reason the constructor found
            self._eager(self.eager_reason)
        start = _random_state()
        seen = None
        if not self.eager_reason and self._known:
            result, seen = self._attempt(method, model, guide, args, kwargs)
            if result is not None:
                return result
            _restore(start)
        # a run that went through updated the modules' state (batch norm's statistics) as the
        # call's one run does: the runs after it in this call put the state back
        ran = seen is not None
        if not self.eager_reason and seen not in self._known:
            said = self._judged(model, guide, args, kwargs)  # Trace_ELBO's errors raise here
            start = self._drawn_from
            _restore(start)
            if self.eager_reason:
                self._eager(self.eager_reason)  # say why, once
            else:
                with buffers_kept(model, guide) if ran else contextlib.nullcontext():
                    result, seen = self._attempt(method, model, guide, args, kwargs)
                ran = ran or seen is not None
                if result is not None:
                    for warning in said:  # what Trace_ELBO said of this call
                        warnings.warn_explicit(warning.message, warning.category,
                                               warning.filename, warning.lineno)
                    return result
                if seen is not None and seen not in self._known:
                    self._eager("the lean handler sees this pair's sites differently from "
                                "Trace_ELBO (an effect handler it does not know?)")
                _restore(start)
        self.eager_calls += 1  # eager for good, or a checked structure's non-finite loss
        with buffers_kept(model, guide) if ran else contextlib.nullcontext():
            return eager(model, guide, *args, **kwargs)

    def _judged(self, model: Any, guide: Any, args: Any, kwargs: Any) -> list[Any]:
        """Let Trace_ELBO trace this call and judge its structure; what it warned."""
        self._judging = True
        try:  # (the lean run that follows is the call's one run: its state changes stay)
            with warnings.catch_warnings(record=True) as said, torch.no_grad(), \
                    buffers_kept(model, guide):
                warnings.simplefilter("always")
                super().loss(model, guide, *args, **kwargs)
        finally:
            self._judging = False
        return [w for w in said if w.category is not EagerPathWarning] if not \
            self.eager_reason else []

    def _attempt(self, method: str, model: Any, guide: Any, args: Any,
                 kwargs: Any) -> tuple[Any, Any]:
        """The lean result (None where it is not exact), and the structure seen (if any)."""
        try:
            result, seen = self._lean_call(method, model, guide, args, kwargs)
        except Exception:  # noqa: BLE001 (_Retrace, or what Trace_ELBO's own run judges)
            return None, None
        if result is not None:
            self.lean_calls += 1
        return result, seen

    def _lean_call(self, method: str, model: Any, guide: Any, args: Any,
                   kwargs: Any) -> tuple[Any, Any]:
        """The lean result, or None (and the structure seen) where Trace_ELBO must judge."""
        check = is_validation_enabled()
        self._lean_from = _random_state()
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
