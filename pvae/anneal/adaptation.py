r"""HMC's step size, adapted per row towards a target acceptance rate, outside the kernel.

Every row (datapoint) has its own step size :math:`\epsilon`, shared by its chains. After
each move it follows the row's acceptance rate :math:`a` towards the target :math:`a^\ast`,

.. math:: \log \epsilon \leftarrow \log \epsilon + \gamma\, (a - a^\ast),

with :math:`\gamma` = :data:`ADAPTATION`: too many rejections shrink the step, too few grow
it. AIS adapts while it anneals (its weights stay valid: each move still leaves its own
:math:`f_\beta` invariant, and the step size depends only on moves already made).
"""

from __future__ import annotations

import torch

from .kernel import ChainState

__all__ = ["ADAPTATION", "FIRST_STEP_SIZE", "adapt_step_size", "first_step_size"]

#: the first HMC step size, before it adapts
FIRST_STEP_SIZE = 0.05
#: how fast the log step size follows (acceptance - target)
ADAPTATION = 0.5


def first_step_size(state: ChainState) -> torch.Tensor:
    """:data:`FIRST_STEP_SIZE` for every row, shaped to broadcast: ``(1, rows, 1, ...)``."""
    z = state.position
    return z.new_full((1, z.shape[1]) + (1,) * (z.dim() - 2), FIRST_STEP_SIZE)


def adapt_step_size(step_size: torch.Tensor, acceptance: torch.Tensor,
                    target: float) -> torch.Tensor:
    r"""The step sizes after a move whose rows accepted ``acceptance``, ``(rows,)``."""
    return step_size * torch.exp(ADAPTATION * (acceptance - target)).reshape(step_size.shape)
