r"""A fast path proven equal to its reference before it answers: pvae's one mechanism for it.

pvae computes several things two ways: a reference that is the definition (Pyro's
``Trace_ELBO``, Pyro's enumeration of a mixture, an eager potential) and a fast function
that should give the same numbers (the VAE's ELBO written in torch, the lean trace, a
mixture's E-step table in closed form, a recorded potential). :class:`CheckedPath` is the
rule they all follow:

* a fast function answers only for a **key** (what its exactness depends on: shapes,
  dtype, the code of the pair, ...) on which it has given the reference's value from the
  *same random numbers* (:meth:`CheckedPath.check` runs it from the random state the
  reference started from, and puts that state back), to a tolerance of rounding;
* the runs of a check leave no trace on the program: the random state is put back, and
  ``keep`` (for instance :func:`pvae.pair.buffers_kept`) puts back the modules' state;
* a fast function that disagrees or raises is refused for good, and says why once, as a
  :class:`FastPathWarning` (each fast path has its own subclass); the reference answers;
* the keys it has checked are its cache: per object, or shared by the process when many
  objects run the same code (EM's restarts).

A reference may do one-time work on its first run that draws random numbers (an autoguide
sets itself up from the prior): :meth:`CheckedPath.check` with ``again`` then compares once
more, from the same state, before it judges.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from collections.abc import Callable, Hashable
from typing import Any, Literal

import torch

__all__ = ["Agreement", "CheckedPath", "FastPathWarning", "close_scalars", "close_tensors",
           "random_state", "restore"]


class FastPathWarning(UserWarning):
    """A fast path is not used (its reference answers instead); the message says why."""


def random_state() -> tuple[torch.Tensor, Any]:
    """Torch's random state: the CPU generator's and, once CUDA is in use, every device's."""
    cuda = torch.cuda.get_rng_state_all() if torch.cuda.is_initialized() else None
    return torch.get_rng_state(), cuda


def restore(state: tuple[torch.Tensor, Any]) -> None:
    """Put back a state taken by :func:`random_state`."""
    torch.set_rng_state(state[0])
    if state[1] is not None:
        torch.cuda.set_rng_state_all(state[1])


def _number(value: Any) -> float:
    return float(value.detach()) if isinstance(value, torch.Tensor) else float(value)


def close_scalars(expected: Any, got: Any, dtype: torch.dtype) -> str | None:
    r"""None if two scalars agree to :math:`\sqrt{\epsilon}` of ``dtype``, relatively; else how."""
    if got is None:
        return "gave no finite value"
    expected, got = _number(expected), _number(got)
    tolerance = math.sqrt(torch.finfo(dtype).eps) * (1 + abs(expected))
    if abs(got - expected) <= tolerance:
        return None
    return f"gave {got} where {{reference}} gives {expected}"


def close_tensors(ulps: float) -> Callable[[Any, Any, torch.dtype], str | None]:
    """A comparison of tensors (or tuples of them): ``ulps`` of the largest value, absolute."""

    def compare(expected: Any, got: Any, dtype: torch.dtype) -> str | None:
        pairs = zip(expected, got, strict=True) if isinstance(expected, tuple) else [(expected,
                                                                                      got)]
        for want, have in pairs:
            if not isinstance(have, torch.Tensor):
                return f"returned a {type(have).__name__}, not a tensor"
            if have.shape != want.shape:
                return f"gave shape {tuple(have.shape)}, not {tuple(want.shape)}"
            scale = float(want.abs().nan_to_num(0.0, 0.0, 0.0).max()) if want.numel() else 0.0
            atol = ulps * torch.finfo(dtype).eps * max(1.0, scale)
            if not torch.allclose(have, want, rtol=0.0, atol=atol, equal_nan=True):
                gap = float((have - want).abs().nan_to_num(float("inf")).max())
                return f"differs from {{reference}} by up to {gap:.3g}"
        return None

    return compare


#: how a check ended: the fast function agreed; agreed once the reference had set itself up;
#: or was refused (for good)
Agreement = Literal["agreed", "settled", "refused"]


class CheckedPath:
    """A fast function that answers only for the keys on which it matched its reference.

    Parameters
    ----------
    what : str
        What the fast function is, for messages ("the closed form").
    reference : str
        What the reference is, for messages ("Trace_ELBO").
    warning : type
        The :class:`FastPathWarning` subclass said when it is refused.
    agree : callable, optional
        ``agree(expected, got, dtype)``: None when they agree, else a description of how
        not (default :func:`close_scalars`).
    keep : callable, optional
        A context manager factory that puts back what a run changes besides the random
        state (module buffers); the check's runs are made under it.
    known : set, optional
        The cache of checked keys; pass one set to share it across objects (the process).
    """

    def __init__(self, what: str, warning: type[Warning] = FastPathWarning, *,
                 reference: str = "the reference",
                 agree: Callable[[Any, Any, torch.dtype], str | None] = close_scalars,
                 keep: Callable[[], contextlib.AbstractContextManager[Any]] | None = None,
                 known: set[Hashable] | None = None) -> None:
        self.what, self.reference = what, reference
        self.warning, self.agree = warning, agree
        self.keep = keep or contextlib.nullcontext
        self.known: set[Hashable] = set() if known is None else known
        #: None while the fast function may answer; otherwise why it does not
        self.reason: str | None = None
        self._said = False

    @property
    def usable(self) -> bool:
        """Whether the fast function may still answer (it has not been refused)."""
        return self.reason is None

    def knows(self, key: Hashable) -> bool:
        """Whether the fast function may answer for ``key`` (checked, and not refused)."""
        return self.reason is None and key in self.known

    def refuse(self, reason: str, *, say: bool = True, stacklevel: int = 3) -> None:
        """Never use the fast function again; say why (once) unless ``say`` is False.

        ``reason`` completes "pvae: <what> ..." (``"gave 3 where ..."``, ``"is not used: ..."``).
        """
        self.reason = f"{self.what} {reason}"
        if say and not self._said:
            self._said = True
            warnings.warn(f"pvae: {self.reason}; {self.reference} answers instead, "
                          "with the same numbers", self.warning, stacklevel=stacklevel + 1)

    def check(self, key: Hashable, expected: Any, fast: Callable[[], Any], dtype: torch.dtype,
              *, start: Any = None, again: Callable[[], Any] | None = None,
              keep: Callable[[], contextlib.AbstractContextManager[Any]] | None = None,
              remember: bool = True) -> Agreement:
        """Compare ``fast()`` with ``expected``, the reference's value from the random ``start``.

        The caller has run the reference from ``start`` (default: the current state). The
        fast function runs from ``start`` too, under ``keep``; it agrees when
        :attr:`agree` finds no difference, and ``key`` is then known. A fast function that
        raises or disagrees is refused, saying why. ``again`` re-runs the reference (from
        ``start``, under ``keep``) for a second comparison when the first fails: a reference
        whose first run drew numbers for one-time work agrees then (``"settled"``). ``keep``
        replaces the object's for this check; with ``remember`` False an agreement is not
        added to the known keys (it proves too little). On return the random state is
        ``start``.
        """
        start = random_state() if start is None else start
        keep = keep or self.keep
        for attempt in range(2 if again is not None else 1):
            try:
                if attempt:
                    restore(start)
                    with keep():
                        expected = again()  # type: ignore[misc]
                restore(start)
                with keep():
                    got = fast()
            except Exception as error:  # noqa: BLE001 (a failure of the fast one is reported)
                if attempt:
                    raise
                restore(start)
                self.refuse(f"raised {type(error).__name__}: {_first_line(error)}")
                return "refused"
            problem = self.agree(expected, got, dtype)
            if problem is None:
                restore(start)
                if remember:
                    self.known.add(key)
                return "settled" if attempt else "agreed"
        restore(start)
        self.refuse(str(problem).replace("{reference}", self.reference))
        return "refused"


def _first_line(error: BaseException) -> str:
    text = str(error)
    return text.splitlines()[0] if text else ""
