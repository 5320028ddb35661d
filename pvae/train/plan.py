"""A fit, checked and ready to run: what :func:`pvae.fit` hands to an engine."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch
from pyro.infer import ELBO

from ..pair import Minibatches
from .step import Schedule, StepRules

if TYPE_CHECKING:  # the options import the engines, which run plans
    from .options import FitOptions

__all__ = ["FitPlan"]


@dataclass(frozen=True)
class FitPlan:
    """Everything :func:`pvae.fit` checked, ready to run: data on the device, the schedule.

    ``options`` are ``fit``'s settings as checked (:class:`~pvae.train.options.FitOptions`);
    the other fields are what they became: ``x``, ``validation`` and ``terms_on`` the data on
    ``device`` (the resolved device), ``schedule`` the learning rate and KL weight by step,
    ``per_epoch`` the optimiser steps per pass over the data, ``minibatches`` how a
    minibatch's log-densities are scaled to the whole data set, ``initialize`` the pair's
    initialiser when the fit calls it, and ``base_seed`` the seed of the restarts'
    initialisations (``seed``, or a random draw).
    """

    options: FitOptions
    x: torch.Tensor
    validation: torch.Tensor | None
    terms_on: torch.Tensor | None
    device: torch.device
    schedule: Schedule
    objective: ELBO
    make_optimizer: Callable[..., torch.optim.Optimizer]
    minibatches: Minibatches
    per_epoch: int
    initialize: Callable[[torch.Tensor, torch.Generator], Any] | None
    base_seed: int

    @property
    def total(self) -> int:
        """SVI steps of the whole run, or EM's iterations."""
        return self.schedule.total if self.options.method == "svi" else self.options.max_iter

    def start(self, pair: Any, restart: int = 0) -> None:
        """Initialise the pair for restart ``restart`` (a seeded generator of its own)."""
        if self.initialize is not None:
            self.initialize(self.x, torch.Generator().manual_seed(self.base_seed + restart))

    def core(self, pair: Any) -> StepRules:
        """The step core of this plan (a resumed run continues its history)."""
        return StepRules(pair, self.schedule, objective=self.objective,
                        history=None if self.options.resume is None
                        else self.options.resume.history)
