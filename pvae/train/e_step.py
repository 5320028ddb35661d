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

from collections.abc import Hashable
from typing import Any

import pyro
import torch
from pyro.infer.util import is_validation_enabled

from ..checked import CheckedPath, close_tensors
from ..objectives import ClosedFormWarning
from ..pair import EnumeratedLogJoint, closed_form_log_joint_of

__all__ = ["EStep", "checked_closed_forms", "forget_checked_closed_forms"]

#: The keys (:meth:`EStep.key`) whose closed form has matched the enumerated table: one cache
#: for the process, shared by every fit's :class:`~pvae.checked.CheckedPath`.
_CHECKED: set[Hashable] = set()
#: the closed form must give the enumerated table to this many ulps of its largest value
ULPS = 1000


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
        self.path = CheckedPath(f"{type(pair).__name__}.closed_form_log_joint",
                                ClosedFormWarning, reference="the enumerated model",
                                agree=close_tensors(ULPS), known=_CHECKED)
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
        closed = self.closed if self.path.usable else None
        if closed is not None and not first:
            return closed(x)
        if closed is not None and self.path.knows(self.key(x)):
            table = closed(x)
            if bool(torch.isfinite(table).all()):
                return table
        # The first E-step checks every distribution's arguments; the later ones, on
        # parameters that the closed-form M-step keeps valid, skip those checks.
        with pyro.validation_enabled(is_validation_enabled() and first):
            table = self.enumerated(x)
        if first and closed is not None:
            finite = bool(torch.isfinite(table).all())  # (NaN agreeing with NaN proves little)
            self.path.check(self.key(x), table, lambda: closed(x), table.dtype, remember=finite)
        return table
