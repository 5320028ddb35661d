r"""Has an annealing converged? A second, shorter run says how far the estimate still moves.

AIS gives a stochastic lower bound of :math:`\log p(x)` whose bias shrinks as the number of
temperatures :math:`T` grows; once the run anneals well the bias falls like :math:`c / T`
(the variance of the log-weights does, and the bias is about half of it). So a second,
independent run at :math:`T / r` temperatures, whose bias is about :math:`r` times as
large, measures what is left: with the shift :math:`d = \hat v_T - \hat v_{T/r}`,

.. math:: \text{bias left at } T \approx \frac{d}{r - 1},
          \qquad \mathrm{se} = \frac{\sqrt{s_T^2 + s_{T/r}^2}}{r - 1}.

A run has converged when that estimate is within :data:`TOLERANCE` nats of zero, allowing
two of its standard errors: an estimate that still moves by more than its standard errors
allow, in either direction, has not. Far from convergence the bias falls slower than
:math:`1/T` (like :math:`T^{-a}`, :math:`a < 1`), and :math:`d / (r - 1)` understates it:
read it as "at least". A standard error
over chains speaks for the chains' spread only, never for this bias: the check is what does.

The check costs one more run at a quarter of the temperatures (a quarter more time);
``check_convergence=False`` skips it.
"""

from __future__ import annotations

import math
import warnings
from typing import NamedTuple

__all__ = ["RATIO", "TOLERANCE", "Convergence", "EvidenceWarning", "shorter", "warn_unless"]

#: the check run has 1 / RATIO of the temperatures
RATIO = 4
#: the bias left (nats) that a converged estimate may carry: a tenth of a nat
TOLERANCE = 0.1


class EvidenceWarning(UserWarning):
    """An AIS estimate that has not converged, or whose weights collapsed onto a few chains."""


def shorter(steps: int) -> int | None:
    """The check run's temperatures for a run of ``steps``; ``None`` when too few to check."""
    return steps // RATIO if steps >= RATIO else None


class Convergence(NamedTuple):
    """What a second run at a quarter of the temperatures says of an AIS estimate.

    Attributes
    ----------
    steps, short_steps : int
        The temperatures of the estimate and of the check run.
    value, short_value : float
        The two estimates (nats, per datapoint for :func:`pvae.ais`, for the whole data set
        for :func:`pvae.evidence`).
    shift_stderr : float
        The standard error of ``value - short_value`` (paired over datapoints for
        :func:`pvae.ais`, two independent runs for :func:`pvae.evidence`).
    tolerance : float
        The bias left that still counts as converged.
    """

    steps: int
    short_steps: int
    value: float
    short_value: float
    shift_stderr: float
    tolerance: float = TOLERANCE

    @property
    def shift(self) -> float:
        """How far the estimate moved from the check run's (nats)."""
        return self.value - self.short_value

    @property
    def bias_left(self) -> float:
        r"""The estimated bias still in the estimate, :math:`d / (r - 1)` (nats)."""
        return self.shift / (self.steps / self.short_steps - 1)

    @property
    def bias_left_stderr(self) -> float:
        """The standard error of :attr:`bias_left`."""
        return self.shift_stderr / (self.steps / self.short_steps - 1)

    @property
    def converged(self) -> bool:
        """Whether the bias left is within the tolerance, allowing two standard errors."""
        return abs(self.bias_left) <= self.tolerance + 2 * self.bias_left_stderr

    def __str__(self) -> str:
        verdict = "converged" if self.converged else "NOT converged"
        return (f"{verdict}: {self.short_steps} -> {self.steps} temperatures moved the "
                f"estimate by {self.shift:+.3f} ± {self.shift_stderr:.3f} nats; bias left "
                f"about {self.bias_left:.3f} ± {self.bias_left_stderr:.3f} "
                f"(tolerance {self.tolerance})")


def warn_unless(name: str, convergence: Convergence | None, ess: float, chains: int,
                steps: int, *, fix: str, stacklevel: int = 3) -> None:
    """One :class:`EvidenceWarning` for an estimate that has not converged or has collapsed.

    ``ess`` below 2 % of ``chains`` (with at least 16 chains) is a collapse; ``fix`` says
    what to do besides raising ``steps``.
    """
    problems = []
    if convergence is not None and not convergence.converged:
        moved = (f"it has not converged: {convergence.short_steps} -> {convergence.steps} "
                 f"temperatures moved it by {convergence.shift:+.3f} ± "
                 f"{convergence.shift_stderr:.3f} nats, ")
        problems.append(moved + (
            f"so at least about {convergence.bias_left:.2f} nats of bias are likely left (far "
            "from convergence far more: it is a lower bound, and the truth is likely higher)"
            if convergence.shift > 0 else
            "down, which more temperatures do not do to a lower bound that anneals well: its "
            "weights are too uneven to trust"))
    if chains >= 16 and ess < COLLAPSED * chains:
        problems.append(f"the weights collapsed onto {ess:.1f} of {chains} chains, so the "
                        "estimate and its standard error are unreliable (likely far below "
                        "log p(x))")
    if problems:
        warnings.warn(f"{name}: {'; '.join(problems)}; raise steps (now {steps}) or {fix}",
                      EvidenceWarning, stacklevel=stacklevel)


#: an effective sample size below this share of the chains: the run has collapsed
COLLAPSED = 0.02


def paired_stderr(differences_std: float, count: int) -> float:
    """The standard error of a mean of ``count`` paired differences of spread ``std``."""
    return differences_std / math.sqrt(count) if count > 1 else math.inf
