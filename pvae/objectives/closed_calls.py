r"""When the lean ELBO hands a call to a closed form, and how it makes sure that is exact.

:class:`ClosedFormCalls` is the part of :class:`~pvae.objectives.lean.LeanTrace_ELBO` that
runs a model's ELBO in closed form when the model offers one (its ``closed_form_elbo``
hook, :func:`pvae.pair.closed_form_elbo_of`; a pvae VAE's is :mod:`pvae.models.closed_form`):

* a pair without one trains on the lean path; the reason is kept in ``closed_reason`` and,
  when a compiled ELBO was asked for, said once as a :class:`ClosedFormWarning`;
* the first call of each **key** (the data's shape, dtype and device, and ``num_data``)
  runs the lean path (which judges the pair's structure as ``Trace_ELBO`` sees it) and the
  closed form from the same random numbers; the key is taken only when both give the
  same value (to :math:`\sqrt{\epsilon}` of the dtype, relative). Every call of a
  taken key, that first one included, then computes the closed form, so that a run's
  numbers do not depend on when a key was first met (a resumed run repeats them);
* every call checks the data's support (0 or 1) and that the pair's parts, networks and
  KL weights are those the closed form was made for; a call under a Pyro handler (a trace
  that looks for the parameters), a non-finite loss or data out of the support goes the
  lean way, where ``Trace_ELBO``'s errors are raised.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from collections.abc import Iterable
from typing import Any, Protocol

import torch
from pyro.infer.util import is_validation_enabled, torch_item
from pyro.poutine.runtime import _PYRO_STACK

from ..pair import buffers_kept, closed_form_elbo_of, kl_weight_of
from .random_state import random_state, restore

__all__ = ["ClosedForm", "ClosedFormCalls", "ClosedFormWarning", "Gradient", "add_gradients"]

LEAN = "the lean path"

#: a trainable parameter and its gradient, computed but not yet added to its ``.grad``
Gradient = tuple[torch.Tensor, torch.Tensor]


def add_gradients(gradients: Iterable[Gradient]) -> None:
    """Add each gradient into its parameter's ``.grad``, as ``backward`` accumulates it."""
    for parameter, gradient in gradients:
        if parameter.grad is None:
            parameter.grad = gradient
        else:
            parameter.grad += gradient


class ClosedFormWarning(UserWarning):
    """A compiled ELBO was asked for and cannot be had; the message says why."""


class ClosedForm(Protocol):
    """What a model's ``closed_form_elbo`` hook returns: its ELBO with one guide, in torch."""

    compiled: bool
    model: Any
    guide: Any

    @property
    def dtype(self) -> torch.dtype: ...  # noqa: D102 (the loss's)

    def matches(self, model: Any, guide: Any) -> bool: ...  # noqa: D102 (still its pair)

    def key(self, args: tuple[Any, ...],  # noqa: D102 (what a call's exactness depends on)
            kwargs: dict[str, Any]) -> tuple[Any, ...] | None: ...

    def loss(self, x: torch.Tensor,  # noqa: D102 (eager, differentiable)
             num_data: int | None = None) -> torch.Tensor: ...

    def checked_loss(self, x: torch.Tensor,  # noqa: D102 (None: outside the support)
                     num_data: int | None = None) -> torch.Tensor | None: ...

    def graph_ready(self) -> bool: ...  # noqa: D102 (value_and_grads is compiled)

    @staticmethod
    def differentiable(loss: torch.Tensor,  # noqa: D102 (the graph's loss, differentiable)
                       gradients: list[Gradient]) -> torch.Tensor: ...

    def value_and_grads(self, x: torch.Tensor,  # noqa: D102 (loss, outside count, grads)
                        num_data: int | None = None) -> tuple[torch.Tensor, torch.Tensor,
                                                              list[Gradient]]: ...


class ClosedFormCalls:
    """The closed-form calls of the lean ELBO (a mixin of ``LeanTrace_ELBO``)."""

    lean_calls: int
    eager_reason: str | None
    retain_graph: bool | None
    _lean_from: Any

    def _traced_call(self, method: str, model: Any, guide: Any, args: Any,
                     kwargs: Any) -> Any:
        raise NotImplementedError

    def _closed_setup(self, compiled: bool) -> None:
        #: torch.compile the closed form (:mod:`pvae.models.closed_form`)
        self.compiled = compiled
        #: how many calls took the closed form
        self.closed_calls = 0
        #: why the last pair seen does not take the closed form ("" when it does)
        self.closed_reason: str | None = None
        self._closed: ClosedForm | None = None
        self._closed_known: set[tuple[Any, ...]] = set()  # keys checked against lean
        self._refused: dict[tuple[int, int], str] = {}

    def _closed_result(self, method: str, model: Any, guide: Any, args: Any,
                       kwargs: Any) -> Any:
        """The call's result in closed form, or None where it goes the lean way."""
        if _PYRO_STACK or self.eager_reason:  # a handler must see the sites; or eager
            return None
        form, key = self._closed_for(model, guide, args, kwargs)
        if form is None or key is None:
            return None
        if key not in self._closed_known:
            with buffers_kept(model, guide):  # (the call's one run is the one that follows)
                if not self._check(form, key, model, guide, args, kwargs):
                    return None
        return self._closed_call(method, form, args, kwargs)

    def _closed_for(self, model: Any, guide: Any, args: Any,
                    kwargs: Any) -> tuple[ClosedForm | None, Any]:
        """The closed form of this pair and the call's key, or (None, None)."""
        form = self._closed
        if form is None or not form.matches(model, guide):
            form = self._made(model, guide)
            if form is None:
                return None, None
        if kl_weight_of(model) != kl_weight_of(guide):
            return None, None  # (Trace_ELBO scales their latent sites apart: lean does too)
        return form, form.key(args, kwargs)

    def _made(self, model: Any, guide: Any) -> ClosedForm | None:
        """The model's closed form with this guide, or None (and why not, once)."""
        pair = (id(model), id(guide))
        if pair in self._refused:
            self.closed_reason = self._refused[pair]
            return None
        hook = closed_form_elbo_of(model)
        made, problem = hook(guide, self.compiled) if hook is not None else (
            None, f"its model (a {type(model).__name__}) has no closed form")
        if made is None:
            self._refuse(pair, problem)
            return None
        if problem:
            self._refuse(pair, problem, kept="the closed form, uncompiled")
        self._closed, self._closed_known, self.closed_reason = made, set(), problem
        return made

    def _refuse(self, pair: tuple[int, int], problem: str, kept: str = LEAN,
                say: bool | None = None) -> None:
        """No closed form (or no compiled one) for this pair; a compiled run says why."""
        self.closed_reason = problem
        if kept == LEAN:
            self._refused[pair] = problem
        if self.compiled if say is None else say:
            warnings.warn(f"pvae: this pair's ELBO is not compiled: {problem}; it trains on "
                          f"{kept}, with the same values", ClosedFormWarning, stacklevel=7)

    def _check(self, form: ClosedForm, key: Any, model: Any, guide: Any, args: Any,
               kwargs: Any) -> bool:
        """Take ``key`` if the closed form gives the lean value from the same draws."""
        start = random_state()
        self._lean_from, lean_calls = None, self.lean_calls
        expected = self._traced_call("loss", model, guide, args, kwargs)
        if self.lean_calls == lean_calls or self._lean_from is None:
            restore(start)  # not lean (eager, or a non-finite loss): Trace_ELBO's to run
            return False
        x, num_data = args[0], kwargs.get("num_data")
        values = []
        try:
            restore(self._lean_from)
            with torch.no_grad():
                values.append(torch_item(form.loss(x, num_data)))
            if form.compiled:  # the compiled graph, made now, from the same draws
                restore(self._lean_from)
                with torch.enable_grad():
                    values.append(torch_item(form.value_and_grads(x, num_data)[0]))
        except Exception as error:  # noqa: BLE001 (torch.compile's own failures)
            if not form.compiled:
                raise
            form.compiled = False
            # dynamo wraps the backend's own error (as its inner_exception)
            cause: BaseException = getattr(error, "inner_exception", None) or error
            first = str(cause).splitlines()[0] if str(cause) else ""
            self._refuse((id(model), id(guide)),
                         f"torch.compile failed ({type(cause).__name__}: {first})",
                         kept="the closed form, uncompiled")
            return False
        finally:
            restore(start)
        tolerance = math.sqrt(torch.finfo(form.dtype).eps) * (1 + abs(expected))
        if all(abs(value - expected) <= tolerance for value in values):
            self._closed_known.add(key)
            return True
        self._closed = None
        self._refuse((id(model), id(guide)), f"its closed form gave {values} nats where "
                     f"Trace_ELBO gives {expected}", say=False)
        warnings.warn(f"pvae: {self.closed_reason}; this pair trains on the lean path",
                      ClosedFormWarning, stacklevel=6)
        return False

    def _closed_call(self, method: str, form: ClosedForm, args: Any,
                     kwargs: Any) -> Any:
        """The closed form's result, or None (the random state put back) to go the lean way."""
        x, num_data = args[0], kwargs.get("num_data")
        start = random_state()
        if method != "loss" and form.graph_ready():  # compiled: the gradient from the graph
            graph_loss, outside, gradients = form.value_and_grads(x, num_data)
            if (outside and is_validation_enabled()) or not math.isfinite(
                    value := torch_item(graph_loss)):
                restore(start)  # (nothing was added to the gradients)
                return None
            self.closed_calls += 1
            if method == "differentiable_loss":
                return form.differentiable(graph_loss, gradients)
            add_gradients(gradients)
            return value
        with torch.no_grad() if method == "loss" else contextlib.nullcontext():
            loss = form.checked_loss(x, num_data) if is_validation_enabled() \
                else form.loss(x, num_data)
        if loss is None or not math.isfinite(value := torch_item(loss)):
            restore(start)  # out of the support, or not finite: Trace_ELBO says what is wrong
            return None
        self.closed_calls += 1
        if method == "loss":
            return value
        if method == "differentiable_loss":
            return loss
        if loss.requires_grad:
            loss.backward(retain_graph=self.retain_graph)
        return value
