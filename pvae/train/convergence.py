r"""When an SVI run has converged: no change in its loss that the noise cannot explain.

With :math:`w = \max(10, \lfloor T / 10 \rfloor)` for a run of :math:`T` steps, compare the
mean loss of the last :math:`w` steps, :math:`\bar L_{\mathrm{last}}`, with the mean of the
:math:`w` steps before them, :math:`\bar L_{\mathrm{before}}`. The run has converged when

.. math:: |\bar L_{\mathrm{before}} - \bar L_{\mathrm{last}}| \le \mathrm{tol}
          + 2 \sqrt{\frac{s^2_{\mathrm{before}} + s^2_{\mathrm{last}}}{w}},

that is, when the change is within ``tol`` (nats per datapoint) plus two standard errors of
the step-to-step spread (minibatch and sampling noise). A full-batch fit of an exact
likelihood has no noise, so it must stop moving; a run shorter than :math:`2w` steps has
not shown that it converged. A fit that ends unconverged warns with a
:class:`ConvergenceWarning`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = ["MIN_WINDOW", "ConvergenceWarning", "convergence_gap", "has_converged"]

#: the shortest window of steps compared
MIN_WINDOW = 10


class ConvergenceWarning(UserWarning):
    """A fit ended before its loss stopped changing."""


def _mean_and_variance(values: Sequence[float]) -> tuple[float, float]:
    mean = sum(values) / len(values)
    return mean, sum((v - mean) ** 2 for v in values) / max(len(values) - 1, 1)


def convergence_gap(losses: Sequence[float], tol: float) -> tuple[float, float] | None:
    """The change between the last two windows and what the rule allows, or None if short."""
    window = max(MIN_WINDOW, len(losses) // 10)
    if len(losses) < 2 * window:
        return None
    before, before_var = _mean_and_variance(losses[-2 * window:-window])
    last, last_var = _mean_and_variance(losses[-window:])
    return abs(before - last), tol + 2 * math.sqrt((before_var + last_var) / window)


def has_converged(losses: Sequence[float], tol: float) -> bool:
    """Whether ``losses`` (nats per datapoint, one per step) meet the rule above."""
    gap = convergence_gap(losses, tol)
    return gap is not None and gap[0] <= gap[1]
