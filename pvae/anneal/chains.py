r"""AIS's chains (step 1 of the move; split into state, kernel and adaptation next)."""

from __future__ import annotations

import functools
import math
from typing import Any

import torch

from ..validation import check_positive_int, check_positive_number
from .recorded import RecordedPotential, energy_and_gradient, worth_recording

__all__ = ["ADAPTATION", "FIRST_STEP_SIZE", "MAX_LEAPFROG", "MAX_STEPS", "Chains", "anneal",
           "check_settings", "effective_sample_size", "log_mean_exp"]

#: the first HMC step size, before it adapts
FIRST_STEP_SIZE = 0.05
#: how fast the log step size follows (acceptance - target)
ADAPTATION = 0.5
#: more temperatures than any run needs (10 000 is already a very long one)
MAX_STEPS = 10**6
#: more leapfrog steps per HMC move than any move needs (each one is a gradient evaluation)
MAX_LEAPFROG = 1000


class Chains:
    """The state of k chains per row: codes, the two end densities there, step sizes."""

    def __init__(self, path: Any, z: torch.Tensor) -> None:
        self.path, self.z = path, z
        self.joint, self.start = self._ends(z)
        rows = z.shape[1]
        self.step_size = z.new_full((1, rows) + (1,) * (z.dim() - 2),
                                    FIRST_STEP_SIZE)
        self.accepted = z.new_zeros(rows)
        self.moves = 0
        #: the potential and its gradient: eager, or replayed from a recording
        #: (:mod:`~pvae.estimate.recorded`) once :func:`anneal` has made one
        self.evaluate: Any = functools.partial(energy_and_gradient, path.ends)

    def _ends(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        with torch.no_grad():
            return self.path.ends(z)

    def _trajectory(self, momentum: torch.Tensor, cold: torch.Tensor, hot: torch.Tensor,
                    leapfrog: int) -> tuple[torch.Tensor, ...] | None:
        r"""``leapfrog`` leapfrog steps (unit masses) from the chains' codes.

        The end's codes, momenta, :math:`\log p(x, z)` and :math:`\log p_0(z)`; ``None`` if
        an evaluation raised a linear-algebra error (a matrix singular at a proposed point).
        """
        evaluate, z, r, size = self.evaluate, self.z, momentum, self.step_size
        try:
            _, gradient, joint, start = evaluate(z, cold, hot)
            for _ in range(leapfrog):
                r = r + 0.5 * size * (-gradient)
                z = z + size * r
                _, gradient, joint, start = evaluate(z, cold, hot)
                r = r + 0.5 * size * (-gradient)
        except torch.linalg.LinAlgError:
            return None
        return z, r, joint, start

    def log_ratio(self) -> torch.Tensor:
        r""":math:`\log p(x, z) - \log p_0(z)` at the chains' codes, ``(k, B)``."""
        return self.joint - self.start

    def move(self, beta: float, leapfrog: int, target: float) -> None:
        r"""One HMC transition leaving :math:`f_\beta` invariant, then adapt the step sizes."""
        event = tuple(range(2, self.z.dim()))
        momentum = torch.randn_like(self.z)
        current = -((1 - beta) * self.start + beta * self.joint) + 0.5 * momentum.pow(2).sum(
            event)
        end = self._trajectory(momentum, self.z.new_tensor(1 - beta), self.z.new_tensor(beta),
                               leapfrog)
        if end is None:  # an evaluation failed (a singular matrix): every chain stays
            failed = torch.full_like(self.joint, math.nan)
            z_new, moved, joint, start = self.z, momentum, failed, failed
        else:
            z_new, moved, joint, start = end
        proposed = -((1 - beta) * start + beta * joint) + 0.5 * moved.pow(2).sum(event)
        log_accept = (current - proposed).nan_to_num(nan=-math.inf)
        accept = torch.rand_like(log_accept).log() < log_accept  # a non-finite move: rejected
        keep = accept.reshape(accept.shape + (1,) * len(event))
        self.z = torch.where(keep, z_new, self.z)
        self.joint = torch.where(accept, joint, self.joint)
        self.start = torch.where(accept, start, self.start)
        rate = accept.to(self.z.dtype).mean(0)
        self.accepted += rate
        self.moves += 1
        shape = self.step_size.shape
        self.step_size = self.step_size * torch.exp(ADAPTATION * (rate - target)).reshape(shape)


def anneal(path: Any, z: torch.Tensor, betas: torch.Tensor, *, leapfrog: int,
           target: float, bar: Any = None) -> tuple[torch.Tensor, Chains]:
    """Run chains from ``z`` along ``betas``; return their log-weights ``(k, B)`` and state.

    ``betas`` may rise (forward AIS, from the start density) or fall (reverse AIS, from
    exact posterior samples). The last temperature needs no transition.
    """
    chains = Chains(path, z)
    if getattr(path, "recordable", False) and worth_recording(len(betas) - 2, leapfrog):
        chains.evaluate = RecordedPotential.record(path.ends, z, "evidence") or chains.evaluate
    log_w = torch.zeros_like(chains.joint)
    for t in range(1, len(betas)):
        log_w = log_w + float(betas[t] - betas[t - 1]) * chains.log_ratio()
        if t < len(betas) - 1:
            chains.move(float(betas[t]), leapfrog, target)
        if bar is not None:
            bar.update()
    return log_w, chains


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
