"""Where an SVI run stands after an epoch: enough to continue it exactly."""

from __future__ import annotations

import contextlib
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from .result import History

__all__ = ["TrainingState", "capture_rng", "rng_untouched", "restore_rng"]


@dataclass
class TrainingState:
    """An SVI run at the end of an epoch, handed to ``fit(on_epoch_end=...)``.

    Passing it back as ``fit(resume=state)`` (with the pair's parameters restored and the
    same data and settings) continues the run so that, on the CPU, every later loss equals
    the uninterrupted run's.

    Attributes
    ----------
    step : int
        Optimiser steps taken so far.
    epoch : int
        Passes over the data completed so far.
    losses : list of float
        Every step's loss so far, in nats per datapoint.
    optimizer : dict
        The optimiser's ``state_dict()`` (moments, step counts).
    rng : dict
        The random number generators' states, from :func:`capture_rng`.
    history : History
        The per-epoch curves so far.
    batch_size, num_data : int or None
        The run's minibatch size (``None``: all rows) and number of rows; a resume with other
        ones is refused (``None`` for states saved before they were recorded).
    """

    step: int
    epoch: int
    losses: list[float] = field(default_factory=list)
    optimizer: dict[str, Any] = field(default_factory=dict)
    rng: dict[str, Any] = field(default_factory=dict)
    history: History = field(default_factory=History)
    batch_size: int | None = None
    num_data: int | None = None

    @property
    def validation_losses(self) -> list[float]:
        """The validation objective after every epoch so far (``history.validation``)."""
        return self.history.validation

    def to_dict(self) -> dict[str, Any]:
        """Plain containers and tensors only (safe for ``torch.load(weights_only=True)``)."""
        return {"step": self.step, "epoch": self.epoch, "losses": list(self.losses),
                "optimizer": self.optimizer, "rng": self.rng,
                "history": self.history.to_dict(), "batch_size": self.batch_size,
                "num_data": self.num_data}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainingState:
        """The inverse of :meth:`to_dict`."""
        fields = {key: value for key, value in data.items() if key != "validation_losses"}
        return cls(**{**fields, "history": History.from_dict(data.get("history", {}))})


def capture_rng() -> dict[str, Any]:
    """The states of torch's (CPU and, when in use, CUDA), Python's and NumPy's generators."""
    kind, keys, position, has_gauss, cached = np.random.get_state()  # noqa: NPY002 (whatever else uses it)
    version, internal, gauss = random.getstate()
    state: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "python": [version, list(internal), gauss],
        "numpy": [kind, torch.as_tensor(np.asarray(keys, dtype=np.int64)), position,
                  has_gauss, cached],
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng(state: dict[str, Any]) -> None:
    """Put every generator back where :func:`capture_rng` found it."""
    torch.set_rng_state(state["torch"])
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    kind, keys, position, has_gauss, cached = state["numpy"]
    np.random.set_state(  # noqa: NPY002
        (kind, keys.numpy().astype(np.uint32), position, has_gauss, cached))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


@contextlib.contextmanager
def rng_untouched(like: torch.Tensor) -> Iterator[None]:
    """Inside this block, random draws (on ``like``'s device) do not advance the run's stream.

    For work beside training — finding parameters, recording the ELBO's terms — that must not
    change which random numbers the training steps see.
    """
    devices = [like.device] if like.device.type == "cuda" else []
    with torch.random.fork_rng(devices):
        yield
