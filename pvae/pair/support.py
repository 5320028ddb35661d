"""Is every observation of a foreign pair inside its distribution's support? Checked first.

pvae's own models check their data (``check_data``) before any work. A foreign pair has no such
hook, so :func:`check_observations` asks the model itself: it runs on every row (in chunks,
without gradients or random draws of the caller's stream) and each observed site's value is
checked against its distribution's support. A count of -1 under a Poisson is then a
:class:`~pvae.validation.DataError` naming the rows, not a divergence many steps later.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from pyro import poutine
from torch.distributions import constraints

from ..validation import DataError
from .probe import probing

__all__ = ["check_observations", "surely_in_support"]

#: data of more values than this is checked in chunks of rows (a guide that keeps one q per
#: row, an autoguide, can only run on all of them, and such data sets are small)
WHOLE = 2**24


def _bad_rows(value: torch.Tensor, inside: torch.Tensor, rows: int) -> list[int]:
    """The rows (along the first dimension of length ``rows``) with a value outside."""
    outside = ~inside
    if outside.dim() == 0:
        return list(range(rows)) if bool(outside) else []
    for dim, size in enumerate(outside.shape):
        if size == rows:
            other = [d for d in range(outside.dim()) if d != dim]
            flat = outside.any(dim=other) if other else outside
            return flat.nonzero().flatten().tolist()
    return list(range(rows)) if bool(outside.any()) else []


def check_observations(pair: Any, x: torch.Tensor) -> None:
    """Raise :class:`DataError` naming the rows whose observations lie outside their support."""
    chunk = x.shape[0] if x.numel() <= WHOLE else max(1, WHOLE // max(1, x[0].numel()))
    for first in range(0, x.shape[0], chunk):
        rows = x[first:first + chunk]
        with probing(pair.model, pair.guide):
            guide = poutine.trace(pair.guide).get_trace(rows)
            model = poutine.trace(poutine.replay(pair.model, trace=guide)).get_trace(rows)
        for name, site in model.nodes.items():
            if site["type"] != "sample" or not site["is_observed"]:
                continue
            support = site["fn"].support
            value = site["value"]
            if not isinstance(value, torch.Tensor):
                continue
            bad = _bad_rows(value, support.check(value), len(rows))
            if bad:
                shown = ", ".join(str(row + first) for row in bad[:10])
                raise DataError(
                    f"the data lie outside the support of the model's site {name!r} "
                    f"({support}) on {len(bad)} row(s) ({shown}{', ...' if len(bad) > 10 else ''}"
                    f"): give data the likelihood can score, or a likelihood for such data")


# -- observations surely inside their support, checked cheaply on every training call -------
# Each check is sufficient, not necessary: True means "in the support"; False sends the value
# to the distribution's own check. The constraints are told apart by their public classes (or,
# for the singletons, the class of their public instance).

def _within(x: torch.Tensor, lower: float, upper: float, low_open: bool, high_open: bool,
            integer: bool) -> bool:
    low, high = (bound.item() for bound in torch.aminmax(x))
    if not ((low > lower if low_open else low >= lower)
            and (high < upper if high_open else high <= upper)):
        return False  # out of bounds, or NaN
    if not integer:
        return True
    fractions = torch.frac(x) if lower >= 0 else torch.frac(x).abs()  # >= 0 either way
    return fractions.sum().item() == 0


#: bounded constraints: lower and upper bound (a number, or the constraint's attribute that
#: holds it), whether each is open, and whether the values are integers
_BOUNDED: dict[type, tuple[float | str, float | str, bool, bool, bool]] = {
    type(constraints.boolean): (0, 1, False, False, True),
    constraints.interval: ("lower_bound", "upper_bound", False, False, False),
    constraints.half_open_interval: ("lower_bound", "upper_bound", False, True, False),
    constraints.greater_than: ("lower_bound", math.inf, True, False, False),
    constraints.greater_than_eq: ("lower_bound", math.inf, False, False, False),
    constraints.less_than: (-math.inf, "upper_bound", False, True, False),
    constraints.integer_interval: ("lower_bound", "upper_bound", False, False, True),
    type(constraints.nonnegative_integer): ("lower_bound", math.inf, False, False, True),
}
_REAL = type(constraints.real)


def surely_in_support(fn: Any, value: Any) -> bool:
    """Whether ``value`` is surely in ``fn``'s support, by one or two reductions (or False)."""
    if not isinstance(value, torch.Tensor) or not value.is_floating_point():
        return False
    if value.numel() == 0:
        return True
    constraint = fn.support
    while isinstance(constraint, constraints.independent):
        constraint = constraint.base_constraint
    kind = type(constraint)
    if kind is _REAL:
        return bool(torch.isfinite(value.sum()))
    if kind not in _BOUNDED:
        return False
    low, high, low_open, high_open, integer = _BOUNDED[kind]
    lower = getattr(constraint, low) if isinstance(low, str) else low
    upper = getattr(constraint, high) if isinstance(high, str) else high
    if not isinstance(lower, int | float) or not isinstance(upper, int | float):
        return False  # tensor bounds: the distribution's own check
    return _within(value, lower, upper, low_open, high_open, integer)
