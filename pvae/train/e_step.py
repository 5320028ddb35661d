r"""EM's E-step: the enumerated model's table, or the pair's closed form once proven equal.

The E-step needs the ``(K, N)`` table :math:`\ell_{kn} = \log p(x_n, c_n = k)`. Pyro's
enumeration of the model gives it for any enumerable pair (the reference); a pair may also
offer it in plain tensor operations, its ``closed_form_log_joint(x)`` hook
(:func:`pvae.pair.closed_form_log_joint_of`), which skips Pyro's tracing. The closed form is
used only once it has given the enumerated table, to rounding, on real data:

* the first E-step of a fit computes both; a disagreement (or a hook that fails) is said
  as a :class:`~pvae.objectives.ClosedFormWarning` and the fit stays on the enumerated
  model;
* an agreement on a finite table is remembered for the process under the code that made
  both tables (the pair's class, the classes of its submodules, the hook's and the model's
  functions) and the dtype and device. A later fit with the same key starts on the closed
  form: that spares each of many small fits (restarts, a sweep over K) one Pyro trace, the
  largest fixed cost of a fit of a thousand rows;
* a first closed-form table that is not finite everywhere goes back to the enumerated
  model with Pyro's argument checks on, whose error names the bad parameter.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Hashable
from typing import Any

import pyro
import torch
from pyro.infer.util import is_validation_enabled

from ..objectives import ClosedFormWarning
from ..pair import closed_form_log_joint_of
from ..pair.enumeration import EnumeratedLogJoint

__all__ = ["EStep", "checked_closed_forms", "forget_checked_closed_forms"]

#: The keys (:meth:`EStep.key`) whose closed form has matched the enumerated table.
_CHECKED: set[Hashable] = set()


def checked_closed_forms() -> frozenset[Hashable]:
    """The keys whose closed form has matched the enumerated table in this process."""
    return frozenset(_CHECKED)


def forget_checked_closed_forms() -> None:
    """Make the next fit of every pair check its closed form again (tests use this)."""
    _CHECKED.clear()


class EStep:
    """The E-step table of one pair, called once per EM iteration under ``torch.no_grad``."""

    def __init__(self, pair: Any) -> None:
        self.pair = pair
        self.enumerated = EnumeratedLogJoint(pair.model)
        self.closed = closed_form_log_joint_of(pair)
        self.calls = 0

    def key(self, x: torch.Tensor) -> Hashable:
        """What the closed form's agreement depends on: the code of both tables, dtype, device."""
        pair = self.pair
        parts = ([type(module) for module in pair.modules()]
                 if isinstance(pair, torch.nn.Module) else [type(pair)])
        functions = (getattr(fn, "__func__", fn) for fn in (self.closed, pair.model))
        return (*parts, *functions, x.dtype, x.device.type)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """The ``(K, N)`` table at the pair's current parameters."""
        first, self.calls = self.calls == 0, self.calls + 1
        if self.closed is not None and not first:
            return self.closed(x)
        if self.closed is not None and self.key(x) in _CHECKED:
            table = self.closed(x)
            if bool(torch.isfinite(table).all()):
                return table
        # The first E-step checks every distribution's arguments; the later ones, on
        # parameters that the closed-form M-step keeps valid, skip those checks.
        with pyro.validation_enabled(is_validation_enabled() and first):
            table = self.enumerated(x)
        if first and self.closed is not None:
            self.closed = self._agreeing(table, x)
        return table

    def _agreeing(self, reference: torch.Tensor,
                  x: torch.Tensor) -> Callable[[torch.Tensor], torch.Tensor] | None:
        """The closed form if its table is ``reference`` to rounding (remembered), else None."""
        assert self.closed is not None
        try:
            table = self.closed(x)
        except Exception as error:  # noqa: BLE001 -- a hook that fails is reported, not fatal
            why = f"it raised {type(error).__name__}: {error}"
        else:
            if not isinstance(table, torch.Tensor):
                why = f"it returned a {type(table).__name__}, not a tensor"
            elif table.shape != reference.shape:
                why = f"its table has shape {tuple(table.shape)}, not {tuple(reference.shape)}"
            elif torch.allclose(table, reference, rtol=0.0, atol=_rounding(reference),
                                equal_nan=True):
                if bool(torch.isfinite(reference).all()):  # NaN agreeing with NaN proves little
                    _CHECKED.add(self.key(x))
                return self.closed
            else:
                gap = float((table - reference).abs().nan_to_num(float("inf")).max())
                why = f"its table differs from the enumerated model's by up to {gap:.3g} nats"
        warnings.warn(f"{type(self.pair).__name__}.closed_form_log_joint is not used for EM's "
                      f"E-step: {why}; EM runs on the enumerated model instead",
                      ClosedFormWarning, stacklevel=4)
        return None


def _rounding(reference: torch.Tensor) -> float:
    """What rounding alone can separate two computations of ``reference``'s log-densities."""
    scale = float(reference.abs().nan_to_num(0.0, 0.0, 0.0).max()) if reference.numel() else 0.0
    return 1000 * torch.finfo(reference.dtype).eps * max(1.0, scale)
