"""A fit, checked and ready to run: what :func:`pvae.fit` hands to an engine."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from pyro.infer import ELBO

from ..pair import Minibatches
from .state import TrainingState
from .step import Schedule, StepCore

__all__ = ["FitPlan"]

Transform = Callable[[torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class FitPlan:
    """Everything :func:`pvae.fit` checked, ready to run: data on the device, the schedule.

    The fields are ``fit``'s keywords after checking; ``total`` is the number of SVI steps
    (or EM's ``max_iter``), ``per_epoch`` the optimiser steps per pass over the data, and
    ``device`` the resolved device (``device_request`` what the caller asked for), and
    ``base_seed`` the seed of the restarts' initialisations (``seed``, or a random draw);
    ``minibatches`` how a minibatch's log-densities are scaled to the whole data set.
    """

    x: torch.Tensor
    method: str
    schedule: Schedule
    objective: ELBO
    make_optimizer: Callable[..., torch.optim.Optimizer]
    batch_size: int | None
    minibatches: Minibatches
    per_epoch: int
    epochs: int | None
    transform: Transform | None
    validation: torch.Tensor | None
    terms_on: torch.Tensor | None
    n_init: int
    initialize: Callable[[torch.Tensor, torch.Generator], Any] | None
    seed: int | None
    base_seed: int
    time_limit: float | None
    max_iter: int
    tol: float
    device: torch.device
    device_request: str | torch.device
    progress: bool
    resume: TrainingState | None
    on_epoch_end: Callable[[TrainingState], None] | None

    @property
    def total(self) -> int:
        """SVI steps of the whole run, or EM's iterations."""
        return self.schedule.total if self.method == "svi" else self.max_iter

    def start(self, pair: Any, restart: int = 0) -> None:
        """Initialise the pair for restart ``restart`` (a seeded generator of its own)."""
        if self.initialize is not None:
            self.initialize(self.x, torch.Generator().manual_seed(self.base_seed + restart))

    def core(self, pair: Any) -> StepCore:
        """The step core of this plan (a resumed run continues its history)."""
        return StepCore(pair, self.schedule, objective=self.objective,
                        history=self.resume.history if self.resume is not None else None)
