"""The data plate of a pvae model and the KL weight's scale on its latent sites."""

from __future__ import annotations

import contextlib
import functools
from typing import Any

import pyro
import torch
from pyro import poutine

__all__ = ["data_plate", "kl_scale"]


def data_plate(x: torch.Tensor, num_data: int | None = None) -> pyro.plate:
    """A ``pyro.plate("data")`` over the rows of ``x``.

    When ``x`` is a minibatch of a larger data set, pass ``num_data`` (the full size N):
    every log-density inside the plate is then scaled by ``N / len(x)``, so the ELBO of a
    minibatch is an unbiased estimate of the ELBO of the whole data set.
    """
    batch = x.shape[0]
    if num_data is None or num_data == batch:
        return pyro.plate("data", batch)
    return pyro.plate("data", num_data, subsample=_rows(batch, x.device))


def kl_scale(weight: float) -> contextlib.AbstractContextManager[Any]:
    """Scale the log-densities of the latent site(s) inside by ``weight`` (the KL weight).

    At weight 1 there is nothing to scale, and no handler is pushed: one fewer per step.
    """
    return contextlib.nullcontext() if weight == 1 else poutine.scale(scale=weight)


@functools.lru_cache(maxsize=16)
def _rows(batch: int, device: torch.device) -> torch.Tensor:
    """``arange(batch)`` on ``device``, made once per batch size and not on every step.

    Made outside inference mode, so that a first call from a no-gradient loop (Lightning's
    validation) leaves an ordinary tensor for the training steps after it.
    """
    with torch.inference_mode(False):
        return torch.arange(batch, device=device)
