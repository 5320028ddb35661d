r"""The default ELBO: ``Trace_ELBO``, answered by the first checked backend that takes the call.

:class:`CheckedTrace_ELBO` is a drop-in ``Trace_ELBO`` with one particle. Each call goes to the
first backend that takes it: the model's **closed form** (a :class:`pvae.VAE` of the usual
parts, :mod:`pvae.objectives.vae_closed_form`; not under an outer Pyro handler, which must see
the sites), then the **lean trace** (:mod:`pvae.objectives.traced`: latent sites all
reparameterised), then ``Trace_ELBO`` itself.

A backend answers only for keys checked directly against ``Trace_ELBO``
(:class:`pvae.checked.CheckedPath`): a new key's first call is ``Trace_ELBO``'s own (its
errors and warnings are raised; its traces judge the structure,
:func:`~pvae.objectives.structure.lean_problem`); the backend computes the loss from the same
random state, the key is taken when the values agree to rounding, and the call's answer is
the backend's from that state. So every call has the backend's numbers, from the random
numbers ``Trace_ELBO`` would draw; where its first run drew more (an autoguide sets itself
up), they agree only on a second comparison, and that call's answer is ``Trace_ELBO``'s. A
backend that disagrees, raises, or cannot take the pair is refused for good and says why
once (:class:`EagerPathWarning`; :class:`ClosedFormWarning` where a compiled ELBO was asked
for). A call it cannot answer (a non-finite loss, data outside the support) goes down the
list. A check runs the program more than once: module buffers are put back, but other side
effects (Python's or NumPy's random numbers) happen again.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from typing import Any

import torch
from pyro.infer.util import torch_item
from pyro.poutine.runtime import am_i_wrapped

from .._compat import ELBOWithTraces
from ..checked import CheckedPath, FastPathWarning, random_state, restore
from ..pair import buffer_snapshot, buffers_kept, closed_form_elbo_of, kl_weight_of
from ..validation import check_bool, check_positive_int
from .structure import lean_problem, trace_structure
from .traced import LeanTrace, result_of

__all__ = ["MAX_STRUCTURES", "CheckedTrace_ELBO", "ClosedFormWarning", "EagerPathWarning"]

#: distinct structures (a full and a partial minibatch are two) the lean trace follows
MAX_STRUCTURES = 8
_UNKNOWN_HANDLER = ("it sees this pair's sites differently from Trace_ELBO (an effect handler "
                   "it does not know?)")


class EagerPathWarning(FastPathWarning):
    """A pair trains on ``Trace_ELBO`` itself (no lean trace); the message says why."""


class ClosedFormWarning(FastPathWarning):
    """A closed form (or a compiled one) is not used; the message says why."""


def _not_compiled(problem: str, kept: str, stacklevel: int) -> None:
    warnings.warn(f"pvae: this pair's ELBO is not compiled: {problem}; it trains on {kept}, "
                  "with the same values", ClosedFormWarning, stacklevel=stacklevel + 1)


class _ClosedBackend:
    """The model's closed-form ELBO (its ``closed_form_elbo`` hook) as a backend."""

    what = "the closed form"

    def __init__(self, compiled: bool) -> None:
        self.compiled = compiled
        self.form: Any = None  # the current pair's closed form
        self.refused: dict[tuple[int, int], str] = {}
        self.reason: str | None = None  # why the last pair seen has none ("" when it has)
        self.compile_failed = False  # torch.compile failed on this call's check

    def key(self, model: Any, guide: Any, args: Any, kwargs: Any) -> Any:
        """The call's key, or None where the closed form does not take it."""
        if self.form is None or not self.form.matches(model, guide):
            pair = (id(model), id(guide))
            if pair in self.refused:
                self.reason = self.refused[pair]
                return None
            hook = closed_form_elbo_of(model)
            form, self.reason = hook(guide, self.compiled) if hook is not None else (
                None, f"its model (a {type(model).__name__}) has no closed form")
            if form is None:
                self.refused[pair] = self.reason
            if self.reason and self.compiled:
                _not_compiled(self.reason, "the lean trace" if form is None
                              else "the closed form, uncompiled", stacklevel=5)
            self.form = form
            if form is None:
                return None
        if kl_weight_of(model) != kl_weight_of(guide):
            return None  # (Trace_ELBO scales their latent sites apart)
        key = self.form.key(args, kwargs)
        return None if key is None else (id(self.form), key)

    def value(self, args: Any, kwargs: Any) -> float:
        """The loss, eagerly and (if compiled) from the graph: the one farther from eager.

        Where ``torch.compile`` fails, that is said; the form is uncompiled from then on.
        """
        x, num_data = args[0], kwargs.get("num_data")
        start = random_state()
        with torch.no_grad():
            values = [torch_item(self.form.loss(x, num_data))]
        if self.form.compiled:
            restore(start)
            try:
                with torch.enable_grad():  # (the graph of a training call)
                    values.append(torch_item(self.form.value_and_grads(x, num_data)[0]))
            except Exception as error:  # noqa: BLE001 (torch.compile's own failures)
                cause: BaseException = getattr(error, "inner_exception", None) or error
                self.form.compiled, self.compile_failed = False, True
                self.reason = (f"torch.compile failed ({type(cause).__name__}: "
                               f"{(str(cause).splitlines() or [''])[0]})")
                _not_compiled(self.reason, "the closed form, uncompiled", stacklevel=8)
        return max(values, key=lambda value: abs(value - values[0]))


class CheckedTrace_ELBO(ELBOWithTraces):  # noqa: N801 (Pyro's spelling)
    """``Trace_ELBO`` with one particle, answered by checked fast backends where they agree.

    ``SVI(model, guide, optim, CheckedTrace_ELBO())`` trains as with ``Trace_ELBO``; see the
    module's docstring. ``compiled=True`` compiles the closed form (``torch.compile``).
    """

    def __init__(self, *, compiled: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        check_positive_int(self.num_particles, "num_particles")
        self.compiled = check_bool(compiled, "compiled")
        self.closed = _ClosedBackend(self.compiled)
        self.lean_path = CheckedPath(LeanTrace.what, EagerPathWarning, reference="Trace_ELBO")
        self.closed_path = CheckedPath(_ClosedBackend.what, ClosedFormWarning,
                                       reference="Trace_ELBO")
        #: how many calls each path answered
        self.closed_calls = self.lean_calls = self.eager_calls = 0
        if self.num_particles != 1:
            self.lean_path.reason = f"{self.num_particles} particles (the lean trace draws one)"
        elif self.vectorize_particles:
            self.lean_path.reason = "vectorised particles (the lean trace draws one)"
        self._judging = False  # a checking call: its traces are judged
        self._judged: tuple[Any, Any] | None = None  # (their problem, their structure)
        self._judged_structure: Any = None
        self._unsaid = self.lean_path.reason  # said on the first call

    @property
    def eager_reason(self) -> str | None:
        """Why calls go to ``Trace_ELBO`` itself: "" while a backend takes them, None before."""
        if self.closed_path.usable and self.closed_path.known:
            return ""
        return self.lean_path.reason or ("" if self.lean_path.known else None)

    @property
    def lean(self) -> bool:
        """Whether calls of keys already checked take a fast backend (not ``Trace_ELBO``)."""
        return self.eager_reason == ""

    @property
    def closed_reason(self) -> str | None:
        """Why the last pair seen does not take the closed form ("" when it does)."""
        return self.closed_path.reason or self.closed.reason

    @property
    def closed_form(self) -> Any:
        """The closed form of the last pair seen (None if it has none)."""
        return self.closed.form

    def traces_seen(self, model_trace: Any, guide_trace: Any) -> None:
        """Judge the structure of a checking call's traces (Trace_ELBO's own run)."""
        if self._judging and self._judged is None:
            self._judged = (lean_problem(model_trace, guide_trace),
                            (trace_structure(guide_trace), trace_structure(model_trace)))

    def _call(self, method: str, model: Any, guide: Any, args: Any, kwargs: Any) -> Any:
        if self._unsaid or (self.lean_path.usable and not self.lean_path.known):
            problem, self._unsaid = self._unsaid or LeanTrace.problem(model, guide), None
            if problem is not None:
                self.lean_path.refuse(f"is not used: {problem}", stacklevel=4)
        result = None
        if self.closed_path.usable and not am_i_wrapped():
            key = self.closed.key(model, guide, args, kwargs)
            if key is not None:
                result = self._closed_call(method, key, model, guide, args, kwargs)
        if result is None and self.lean_path.usable:
            result = self._lean_call(method, model, guide, args, kwargs)
        if result is not None:
            return result
        self.eager_calls += 1
        return getattr(super(), method)(model, guide, *args, **kwargs)

    def _closed_call(self, method: str, key: Any, model: Any, guide: Any, args: Any,
                     kwargs: Any) -> Any:
        start = random_state()
        if not self.closed_path.knows(key):
            answer = self._checked(self.closed_path, key, method, model, guide, args, kwargs,
                                   lambda: self.closed.value(args, kwargs))
            if answer is not None:
                return answer[0]
            if self.closed.compile_failed:  # (this call goes on down the list)
                self.closed.compile_failed = False
                return None
        result = self.closed.form.answer(method, args[0], kwargs.get("num_data"),
                                         self.retain_graph)
        if result is None:
            restore(start)  # (nothing was added to the gradients)
            return None
        self.closed_calls += 1
        return result

    def _lean_call(self, method: str, model: Any, guide: Any, args: Any, kwargs: Any) -> Any:
        seen = None  # the first call: Trace_ELBO runs first (an autoguide sets itself up in it)
        if self.lean_path.known:
            start, snapshot = random_state(), buffer_snapshot(model, guide)
            try:
                result, seen = LeanTrace.run(method, model, guide, args, kwargs,
                                             answer=self.lean_path.knows,
                                             retain_graph=self.retain_graph)
            except Exception:  # noqa: BLE001 (Trace_ELBO runs the call, says what is wrong)
                result, seen = None, None
            if result is not None:
                self.lean_calls += 1
                return result
            restore(start)
            snapshot()
            if seen is None or self.lean_path.knows(seen):
                return None  # (outside the support, not finite: Trace_ELBO says what is wrong)
            if len(self.lean_path.known) >= MAX_STRUCTURES:
                self.lean_path.refuse(f"is not used: its sites change from call to call (more "
                                      f"than {MAX_STRUCTURES} structures)", stacklevel=5)
                return None
        answer = self._checked(self.lean_path, seen, method, model, guide, args, kwargs,
                               lambda: self._lean_value(model, guide, args, kwargs), judge=True)
        if answer is not None:
            return answer[0]
        result = LeanTrace.run(method, model, guide, args, kwargs,
                               retain_graph=self.retain_graph)[0]
        if result is not None:
            self.lean_calls += 1
        return result

    def _lean_value(self, model: Any, guide: Any, args: Any, kwargs: Any) -> float | None:
        """The lean loss of a checking call, which must see the structure Trace_ELBO saw."""
        value, seen = LeanTrace.run("loss", model, guide, args, kwargs)
        if seen is not None and seen != self._judged_structure:
            raise ValueError(_UNKNOWN_HANDLER)
        return value

    def _checked(self, path: CheckedPath, key: Any, method: str, model: Any, guide: Any,
                 args: Any, kwargs: Any, fast: Any, judge: bool = False) -> tuple[Any] | None:
        """Check ``key`` on Trace_ELBO's run: (its answer,), or None, the state as before."""
        start, snapshot = random_state(), buffer_snapshot(model, guide)
        self._judging = judge
        try:
            with warnings.catch_warnings(record=True) as said, \
                    torch.no_grad() if method == "loss" else contextlib.nullcontext():
                warnings.simplefilter("always")
                reference = super().differentiable_loss(model, guide, *args, **kwargs)
        finally:
            self._judging, judged, self._judged = False, self._judged, None
        after, expected = random_state(), torch_item(reference)
        if not math.isfinite(expected):
            agreement = "not finite"  # (Trace_ELBO's answer; the key stays unchecked)
        elif judge and (judged is None or judged[0] is not None or
                        key not in (None, judged[1])):
            path.refuse("is not used: " + (judged[0] if judged and judged[0] else
                                           _UNKNOWN_HANDLER), stacklevel=6)
            agreement = "refused"
        else:
            if judge and judged is not None:  # (the structure the lean run must see: its key)
                key = self._judged_structure = judged[1]
            dtype = reference.dtype if isinstance(reference, torch.Tensor) else \
                torch.get_default_dtype()
            agreement = path.check(
                key, expected, fast, dtype, start=start, keep=lambda: buffers_kept(model, guide),
                again=lambda: super(CheckedTrace_ELBO, self).loss(model, guide, *args, **kwargs))
        for warning in said:  # what Trace_ELBO said of this call
            warnings.warn_explicit(warning.message, warning.category, warning.filename,
                                   warning.lineno)
        if agreement == "agreed":
            snapshot()  # the backend's run is the call's one run
            restore(start)
            return None
        restore(after)
        self.eager_calls += 1
        return (result_of(method, reference, self.retain_graph),)

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
