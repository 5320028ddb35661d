r"""One HMC move of AIS's chains: a state value in, a state value and what happened out.

The state of the chains is a value, :class:`ChainState`: their positions :math:`z` and the
two log-densities there, :math:`\log p(x, z)` and :math:`\log p_0(z)`. It holds no energy
and no gradient, since both depend on :math:`\beta`, which changes at every move; any
:math:`\beta`'s energy is formed from the two log-densities,
:math:`U_\beta = -[(1 - \beta) \log p_0 + \beta \log p(x, z)]`.

:func:`hmc_move` is a Markov kernel that leaves :math:`f_\beta` invariant: momenta
:math:`r \sim N(0, I)` (unit masses), ``leapfrog`` leapfrog steps of size :math:`\epsilon`,

.. math:: r \leftarrow r - \tfrac{\epsilon}{2} \nabla U_\beta(z), \quad
          z \leftarrow z + \epsilon\, r, \quad
          r \leftarrow r - \tfrac{\epsilon}{2} \nabla U_\beta(z),

then a Metropolis test accepting with probability
:math:`\min(1, e^{H(z, r) - H(z', r')})`, :math:`H = U_\beta + \lVert r \rVert^2 / 2`. A
proposal whose energy is not finite, or where the potential raised a linear-algebra error
(a matrix singular there), is rejected. The step size is an argument: it adapts outside
the kernel (:mod:`~pvae.anneal.adaptation`).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch

from .potential import Evaluate, Potential

__all__ = ["ChainState", "MoveInfo", "hmc_move", "init", "trajectory"]


class ChainState(NamedTuple):
    """Chains at their positions, with the two end log-densities there."""

    #: the codes, ``(chains, rows, *event)``
    position: torch.Tensor
    #: :math:`\log p(x, z)`, ``(chains, rows)``
    log_joint: torch.Tensor
    #: :math:`\log p_0(z)` (the start density's), ``(chains, rows)``
    log_start: torch.Tensor

    @property
    def log_ratio(self) -> torch.Tensor:
        r""":math:`\log p(x, z) - \log p_0(z)`: what a step in :math:`\beta` adds to log w."""
        return self.log_joint - self.log_start


class MoveInfo(NamedTuple):
    """What one move did."""

    #: whether each chain moved, ``(chains, rows)``
    accepted: torch.Tensor
    #: the share of each row's chains that moved, ``(rows,)``
    acceptance: torch.Tensor


def init(potential: Potential, position: torch.Tensor) -> ChainState:
    """The chains' state at ``position``."""
    with torch.no_grad():
        log_joint, log_start = potential.ends(position)
    return ChainState(position, log_joint, log_start)


def trajectory(evaluate: Evaluate, position: torch.Tensor, momentum: torch.Tensor,
               step_size: torch.Tensor, cold: torch.Tensor, hot: torch.Tensor,
               leapfrog: int) -> tuple[torch.Tensor, ...] | None:
    r"""``leapfrog`` leapfrog steps from ``position`` with ``momentum``.

    The end's position, momentum, :math:`\log p(x, z)` and :math:`\log p_0(z)`; ``None`` if
    an evaluation raised a linear-algebra error (a matrix singular at a proposed point).
    """
    z, r = position, momentum
    try:
        _, gradient, joint, start = evaluate(z, cold, hot)
        for _ in range(leapfrog):
            r = r + 0.5 * step_size * (-gradient)
            z = z + step_size * r
            _, gradient, joint, start = evaluate(z, cold, hot)
            r = r + 0.5 * step_size * (-gradient)
    except torch.linalg.LinAlgError:
        return None
    return z, r, joint, start


def hmc_move(state: ChainState, evaluate: Evaluate, beta: float, step_size: torch.Tensor,
             leapfrog: int) -> tuple[ChainState, MoveInfo]:
    r"""One HMC transition of every chain, leaving :math:`f_\beta` invariant.

    ``evaluate`` is the potential (:func:`~pvae.anneal.energy_and_gradient` of a
    :class:`~pvae.anneal.Potential`, or its recording); ``step_size`` broadcasts against
    the positions (one per row: ``(1, rows, 1, ...)``).
    """
    z, joint, start = state
    event = tuple(range(2, z.dim()))
    momentum = torch.randn_like(z)
    current = -((1 - beta) * start + beta * joint) + 0.5 * momentum.pow(2).sum(event)
    end = trajectory(evaluate, z, momentum, step_size, z.new_tensor(1 - beta),
                     z.new_tensor(beta), leapfrog)
    if end is None:  # an evaluation failed (a singular matrix): every chain stays
        failed = torch.full_like(joint, math.nan)
        z_new, moved, joint_new, start_new = z, momentum, failed, failed
    else:
        z_new, moved, joint_new, start_new = end
    proposed = -((1 - beta) * start_new + beta * joint_new) + 0.5 * moved.pow(2).sum(event)
    log_accept = (current - proposed).nan_to_num(nan=-math.inf)
    accept = torch.rand_like(log_accept).log() < log_accept  # a non-finite move: rejected
    keep = accept.reshape(accept.shape + (1,) * len(event))
    moved_state = ChainState(torch.where(keep, z_new, z), torch.where(accept, joint_new, joint),
                             torch.where(accept, start_new, start))
    return moved_state, MoveInfo(accept, accept.to(z.dtype).mean(0))
