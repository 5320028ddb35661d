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

A start so far off that neither run leaves it moves both runs alike, and the shift misses
it. So a second check asks whether the chains reached the posterior at all: weighted by
their final weights they approximate it, so :data:`SETTLING_MOVES` more HMC moves at
:math:`\beta = 1` leave their weighted mean :math:`\log p(x, z)` where it was, up to noise
(:func:`drift`). Chains stuck far from the posterior climb by many nats instead: beyond
:data:`DRIFT_TOLERANCE` and three standard errors, the estimate has not converged.

The checks cost one more run at a quarter of the temperatures and a few moves (a quarter
more time); ``check_convergence=False`` skips them.
"""

from __future__ import annotations

import math
import warnings
from typing import NamedTuple

import torch

from ..results import one_line
from .adaptation import adapt_step_size
from .kernel import hmc_move
from .run import Annealing

__all__ = ["DRIFT_TOLERANCE", "RATIO", "SETTLING_MOVES", "TOLERANCE", "Convergence",
           "EvidenceWarning", "drift", "pooled", "shorter", "warn_unless"]

#: the check run has 1 / RATIO of the temperatures
RATIO = 4
#: the bias left (nats) that a converged estimate may carry: a tenth of a nat
TOLERANCE = 0.1
#: HMC moves at the posterior (beta = 1) after the annealing, to see whether the chains move
SETTLING_MOVES = 20
#: how far (nats) the weighted chains' mean log p(x, z) may move under those moves
DRIFT_TOLERANCE = 0.5
#: an effective sample size below this share of the chains: the run has collapsed
COLLAPSED = 0.02


class EvidenceWarning(UserWarning):
    """An AIS estimate that has not converged, or whose weights collapsed onto a few chains."""


def shorter(steps: int) -> int | None:
    """The check run's temperatures for a run of ``steps``; ``None`` when too few to check."""
    return steps // RATIO if steps >= RATIO else None


@one_line  # inside another result it shows its own repr: the verdict first
class Convergence(NamedTuple):
    r"""What the two checks say of an AIS estimate: a shorter run, and more moves at the end.

    Attributes
    ----------
    steps : int
        The estimate's temperatures.
    value : float
        The estimate (nats, per datapoint for :func:`pvae.ais`, for the whole data set for
        :func:`pvae.evidence`).
    drift, drift_stderr : float
        How far the weighted chains' mean :math:`\log p(x, z)` moved under
        :data:`SETTLING_MOVES` more HMC moves at the posterior (:func:`drift`), and its
        standard error: near 0 when the chains reached the posterior.
    short_steps : int or None
        The check run's temperatures (``None``: fewer than 4, no shorter run).
    short_value, shift_stderr : float or None
        The check run's estimate, and the standard error of ``value - short_value``
        (paired over datapoints for :func:`pvae.ais`, two independent runs for
        :func:`pvae.evidence`).
    tolerance : float
        The bias left that still counts as converged.
    """

    steps: int
    value: float
    drift: float
    drift_stderr: float
    short_steps: int | None = None
    short_value: float | None = None
    shift_stderr: float | None = None
    tolerance: float = TOLERANCE

    @property
    def shift(self) -> float:
        """How far the estimate moved from the check run's (nats; NaN without one)."""
        return math.nan if self.short_value is None else self.value - self.short_value

    @property
    def bias_left(self) -> float:
        r"""The estimated bias left, :math:`d / (r - 1)` (nats; NaN without a shorter run)."""
        if self.short_steps is None:
            return math.nan
        return self.shift / (self.steps / self.short_steps - 1)

    @property
    def bias_left_stderr(self) -> float:
        """The standard error of :attr:`bias_left`."""
        if self.short_steps is None or self.shift_stderr is None:
            return math.nan
        return self.shift_stderr / (self.steps / self.short_steps - 1)

    @property
    def settled(self) -> bool:
        """Whether the chains stayed put at the posterior (within 0.5 nats and three s.e.).

        With the weights on fewer than two chains in effect the standard error is infinite
        and the drift says nothing: a collapse, which :func:`warn_unless` reports instead.
        """
        return abs(self.drift) <= DRIFT_TOLERANCE + 3 * self.drift_stderr

    @property
    def converged(self) -> bool:
        """Settled, and the bias left within the tolerance allowing two standard errors."""
        if not self.settled:
            return False
        if self.short_steps is None:
            return True
        return abs(self.bias_left) <= self.tolerance + 2 * self.bias_left_stderr

    def __repr__(self) -> str:
        bias = ("" if self.short_steps is None else
                f", bias_left={self.bias_left:.3f} ± {self.bias_left_stderr:.3f}")
        return (f"Convergence(converged={self.converged}{bias}, drift={self.drift:+.3f} ± "
                f"{self.drift_stderr:.3f}, steps={self.steps})")

    def __str__(self) -> str:
        verdict = "converged" if self.converged else "NOT converged"
        shorter_run = ("no shorter run (fewer than 4 temperatures)" if self.short_steps is None
                       else f"{self.short_steps} -> {self.steps} temperatures moved the "
                            f"estimate by {self.shift:+.3f} ± {self.shift_stderr:.3f} nats, "
                            f"bias left about {self.bias_left:.3f} ± "
                            f"{self.bias_left_stderr:.3f}")
        return (f"{verdict}: {shorter_run}; {SETTLING_MOVES} more moves at the posterior "
                f"moved log p(x, z) by {self.drift:+.3f} ± {self.drift_stderr:.3f}")


def warn_unless(name: str, convergence: Convergence | None, ess: float, chains: int,
                steps: int, *, fix: str, stacklevel: int = 3) -> None:
    """One :class:`EvidenceWarning` for an estimate that has not converged or has collapsed.

    ``ess`` below 2 % of ``chains``, or below 1.5 (with at least 16 chains), is a collapse;
    ``fix`` says what to do besides raising ``steps``.
    """
    problems = []
    if convergence is not None and not convergence.settled:
        problems.append(
            f"its chains never reached the posterior: {SETTLING_MOVES} more HMC moves at the "
            f"posterior moved their weighted mean log p(x, z) by {convergence.drift:+.2f} ± "
            f"{convergence.drift_stderr:.2f} nats, " + (
                "up: they were stuck where the posterior has little mass, so the estimate is "
                "likely far too low" if convergence.drift > 0 else
                "down: they sat too close to a mode, narrower than the posterior, so the "
                "weights cannot be trusted"))
    elif convergence is not None and not convergence.converged:
        moved = (f"it has not converged: {convergence.short_steps} -> {convergence.steps} "
                 f"temperatures moved it by {convergence.shift:+.3f} ± "
                 f"{convergence.shift_stderr:.3f} nats, ")
        problems.append(moved + (
            f"so at least about {convergence.bias_left:.2f} nats of bias are likely left (far "
            "from convergence far more: it is a lower bound, and the truth is likely higher)"
            if convergence.shift > 0 else
            "down, which more temperatures do not do to a lower bound that anneals well: its "
            "weights are too uneven to trust"))
    if chains >= 16 and ess < max(COLLAPSED * chains, 1.5):
        problems.append(f"the weights collapsed onto {ess:.1f} of {chains} chains, so the "
                        "estimate and its standard error are unreliable (likely far below "
                        "log p(x))")
    if problems:
        warnings.warn(f"{name}: {'; '.join(problems)}; raise steps (now {steps}) or {fix}",
                      EvidenceWarning, stacklevel=stacklevel)


def drift(run: Annealing, leapfrog: int, target: float,
          moves: int = SETTLING_MOVES) -> tuple[torch.Tensor, torch.Tensor]:
    r"""How far annealed chains' :math:`\log p(x, z)` moves under more moves at :math:`\beta = 1`.

    Weighted by their final AIS weights, the chains approximate the posterior; HMC moves
    that leave the posterior invariant then leave the weighted mean of :math:`\log p(x, z)`
    where it was, up to noise. Chains that never reached the posterior (a start far off, a
    path that never left it) climb instead. ``run`` is the annealing's end (its chains move
    on from there, their step sizes adapting as before). Returns, per row, the weighted mean
    change and its variance.
    """
    state, step_size = run.state, run.step_size
    before = state.log_joint.clone()
    for _ in range(moves):
        state, info = hmc_move(state, run.evaluate, 1.0, step_size, leapfrog)
        step_size = adapt_step_size(step_size, info.acceptance, target)
    log_w = run.log_weights
    weights = torch.softmax(log_w.double(), 0)
    # a chain without weight (its log p(x, z) was -inf) has no say, and no NaN either
    change = torch.where(weights > 0, (state.log_joint - before).double().reshape(log_w.shape),
                         0.0)
    mean = (weights * change).sum(0)
    variance = (weights.pow(2) * (change - mean).pow(2)).sum(0)
    # weights on fewer than two chains in effect: their spread says nothing, so no verdict
    unknown = 1.0 / weights.pow(2).sum(0) < 2
    return mean, torch.where(unknown, math.inf, variance)


def pooled(means: torch.Tensor, variances: torch.Tensor) -> tuple[float, float]:
    """The mean of per-row drifts and its standard error."""
    rows = means.numel()
    return float(means.mean()), float(variances.sum().sqrt()) / rows
