r"""Annealed importance sampling (Neal, 2001): chains carried along a path of temperatures.

Chains start at :math:`z_0 \sim p_0` and at every temperature :math:`\beta_t`,
:math:`0 = \beta_0 < \dots < \beta_T = 1`, gain the log-weight

.. math:: \log w \mathrel{+}= (\beta_t - \beta_{t-1})\,\big[\log p(x, z) - \log p_0(z)\big]

at their current :math:`z`, then make one HMC move leaving :math:`f_{\beta_t}` invariant
(:func:`~pvae.anneal.hmc_move`) with a step size adapted outside the kernel
(:func:`~pvae.anneal.adapt_step_size`). :math:`\mathbb{E}[w] = p(x)`, so
:func:`log_mean_exp` of the weights is a stochastic lower bound of :math:`\log p(x)`. Run
with falling temperatures from exact posterior draws, the weights estimate :math:`1/p(x)`.
"""

from __future__ import annotations

import functools
import math
from typing import Any, NamedTuple

import torch

from ..validation import check_positive_int, check_positive_number
from .adaptation import adapt_step_size, first_step_size
from .kernel import ChainState, hmc_move, init
from .potential import Evaluate, Potential, energy_and_gradient
from .recorded import RecordedPotential, worth_recording

__all__ = ["MAX_LEAPFROG", "MAX_STEPS", "Annealing", "anneal", "check_settings",
           "effective_sample_size", "log_mean_exp"]

#: more temperatures than any run needs (10 000 is already a very long one)
MAX_STEPS = 10**6
#: more leapfrog steps per HMC move than any move needs (each one is a gradient evaluation)
MAX_LEAPFROG = 1000


class Annealing(NamedTuple):
    """Where a run of :func:`anneal` ended: its weights, its chains, its step sizes."""

    #: the chains' log-weights, ``(chains, rows)``
    log_weights: torch.Tensor
    #: the chains at the last temperature
    state: ChainState
    #: each row's step size after the last move, ``(1, rows, 1, ...)``
    step_size: torch.Tensor
    #: the sum over moves of each row's acceptance rate, ``(rows,)``
    accepted: torch.Tensor
    #: the number of moves made
    moves: int
    #: the potential the moves used (eager, or replayed from its recording)
    evaluate: Evaluate

    @property
    def acceptance(self) -> torch.Tensor:
        """Each row's mean acceptance rate over the run, ``(rows,)``."""
        return self.accepted / max(self.moves, 1)


def anneal(potential: Potential, positions: torch.Tensor, betas: torch.Tensor, *,
           leapfrog: int, target: float, bar: Any = None) -> Annealing:
    """Run chains from ``positions`` along ``betas``; their weights and where they ended.

    ``betas`` may rise (forward AIS, from the start density) or fall (reverse AIS, from
    exact posterior samples). The last temperature needs no move. A long run of a
    recordable potential replays it from a checked recording (:mod:`~pvae.anneal.recorded`).
    """
    state = init(potential, positions)
    step_size = first_step_size(state)
    evaluate: Evaluate = functools.partial(energy_and_gradient, potential.ends)
    if getattr(potential, "recordable", False) and worth_recording(len(betas) - 2, leapfrog):
        evaluate = RecordedPotential.record(potential.ends, positions, "evidence") or evaluate
    log_w = torch.zeros_like(state.log_joint)
    accepted = positions.new_zeros(positions.shape[1])
    moves = 0
    for t in range(1, len(betas)):
        log_w = log_w + float(betas[t] - betas[t - 1]) * state.log_ratio
        if t < len(betas) - 1:
            state, info = hmc_move(state, evaluate, float(betas[t]), step_size, leapfrog)
            step_size = adapt_step_size(step_size, info.acceptance, target)
            accepted += info.acceptance
            moves += 1
        if bar is not None:
            bar.update()
    return Annealing(log_w, state, step_size, accepted, moves, evaluate)


def log_mean_exp(log_w: torch.Tensor) -> torch.Tensor:
    """``log mean exp`` over the chains (dim 0)."""
    return torch.logsumexp(log_w, 0) - math.log(log_w.shape[0])


def effective_sample_size(log_w: torch.Tensor) -> torch.Tensor:
    r""":math:`(\sum w)^2 / \sum w^2` over the chains, per row (at most the chains).

    Computed in float64 and clamped: equal weights in float32 can round to a hair above
    the number of chains.
    """
    log_w = log_w.double()
    ess = torch.exp(2 * torch.logsumexp(log_w, 0) - torch.logsumexp(2 * log_w, 0))
    return ess.clamp(max=log_w.shape[0])


def check_settings(steps: int, chains: int, leapfrog: int, target_acceptance: float) -> float:
    """Check an annealing's settings before any work; return the target acceptance rate."""
    if check_positive_int(steps, "steps") > MAX_STEPS:
        raise ValueError(f"steps={steps} temperatures is more than any run needs (at most "
                         f"{MAX_STEPS:.0e}; 1000 to 10 000 anneal a VAE well)")
    check_positive_int(chains, "chains")
    if check_positive_int(leapfrog, "leapfrog") > MAX_LEAPFROG:
        raise ValueError(f"leapfrog={leapfrog} steps per move is more than any move needs (at "
                         f"most {MAX_LEAPFROG}; 10 to 50 are usual: for longer moves raise steps)")
    return check_positive_number(target_acceptance, "target_acceptance", at_most=1.0)
