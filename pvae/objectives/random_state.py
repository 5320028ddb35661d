"""Torch's random state, taken and put back: how the ELBO's paths draw the same numbers."""

from __future__ import annotations

from typing import Any

import torch

__all__ = ["random_state", "restore"]


def random_state() -> tuple[torch.Tensor, Any]:
    """Torch's random state: the CPU generator's and, once CUDA is in use, every device's."""
    cuda = torch.cuda.get_rng_state_all() if torch.cuda.is_initialized() else None
    return torch.get_rng_state(), cuda


def restore(state: tuple[torch.Tensor, Any]) -> None:
    """Put back a state taken by :func:`random_state`."""
    torch.set_rng_state(state[0])
    if state[1] is not None:
        torch.cuda.set_rng_state_all(state[1])
