r"""The rules of every SVI step: what pvae's own loop and the Lightning engine both obey.

A training run is a sequence of steps :math:`t = 0, \dots, T-1`. Before step :math:`t`

* the learning rate decays geometrically,
  :math:`\eta_t = \eta \, d^{\,t / (T - 1)}`, from ``lr`` to ``lr * lr_decay``;
* a pair with a KL weight (the VAE) scores
  :math:`\mathbb{E}_q[\log p(x \mid z)] - \beta\, r_t\, \mathrm{KL}(q \,\|\, p)` with the
  warm-up ramp :math:`r_t = \min(1, (t + 1) / W)` over ``kl_warmup`` = :math:`W` steps
  (:math:`r_t = 1` without one).

Before each step's update is applied, the core checks it for divergence (the rule of
:mod:`pvae.train.divergence`: a non-finite loss, gradient or parameter, or an exploding
loss) and, on divergence, puts the last good parameters and optimiser state back and raises
:class:`~pvae.train.divergence.DivergenceError`. After each epoch the core records the
:class:`~pvae.train.result.History`. Both engines call :class:`StepRules` for all of
this; neither computes a schedule of its own.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

import torch
from pyro.infer import ELBO, JitTrace_ELBO, JitTraceGraph_ELBO, JitTraceMeanField_ELBO

from ..objectives import CheckedTrace_ELBO
from ..pair import buffers_kept, elbo_terms, kl_weighted, objective_hook, unit_kl_weight
from .divergence import DivergenceGuard
from .result import History
from .state import rng_untouched

__all__ = ["OPTIMIZERS", "Schedule", "StepRules", "batches_per_epoch", "check_optimizer",
           "objective_of", "optimizer_factory"]

Transform = Callable[[torch.Tensor], torch.Tensor]

OPTIMIZERS: dict[str, Callable[..., torch.optim.Optimizer]] = {
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "rmsprop": torch.optim.RMSprop,
    "sgd": torch.optim.SGD,
}

#: optimisers built with ``fused=True`` where the parameters' device and dtype allow it: the
#: same update as the default implementation, in one kernel instead of a dozen small ones
#: per parameter (on the CPU a 784-400-50 VAE's Adam step takes a quarter of the time)
FUSED = frozenset({"adam", "adamw"})


def check_optimizer(optimizer: Any) -> None:
    """Refuse anything but a name in :data:`OPTIMIZERS` or a callable ``params -> optimiser``."""
    if isinstance(optimizer, str):
        if optimizer not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer {optimizer!r}; choose one of "
                             f"{', '.join(OPTIMIZERS)} or pass a callable")
    elif not callable(optimizer):
        raise TypeError(f"optimizer must be a name ({', '.join(OPTIMIZERS)}) or a callable "
                         f"params -> torch.optim.Optimizer; got {type(optimizer).__name__}")


def objective_of(pair: Any) -> ELBO:
    """The pair's own ``objective()`` when it has one, else the default (checked) ``Trace_ELBO``.

    Pyro's ``JitTrace_*`` objectives are refused: they compile the first minibatch's scale
    ``N / B`` and KL weight into the loss, which pvae's partial last minibatch and warm-up
    change (``compile=True`` is pvae's compiled ELBO).
    """
    make = objective_hook(pair)
    objective = make() if make is not None else CheckedTrace_ELBO()
    if isinstance(objective, JitTrace_ELBO | JitTraceMeanField_ELBO | JitTraceGraph_ELBO):
        raise ValueError(f"pvae trains without Pyro's {type(objective).__name__}: it compiles "
                         "the first minibatch's scale and KL weight into the loss; use the "
                         "default ELBO, or {'name': 'elbo', 'compile': True}")
    return objective


def optimizer_factory(optimizer: str | Callable[..., torch.optim.Optimizer],
                      lr: float) -> Callable[..., torch.optim.Optimizer]:
    """``params -> optimiser`` for a name in :data:`OPTIMIZERS` (at ``lr``) or a callable."""
    check_optimizer(optimizer)
    if not isinstance(optimizer, str):
        return optimizer
    optimizer_class = OPTIMIZERS[optimizer]

    def make_optimizer(params: Iterable[torch.Tensor]) -> torch.optim.Optimizer:
        params = list(params)
        if optimizer in FUSED:  # one kernel for every parameter's update, where it exists
            try:
                return optimizer_class(params, lr=lr, fused=True)
            except RuntimeError:  # a device or dtype without the fused kernel
                pass
        return optimizer_class(params, lr=lr)

    return make_optimizer


def batches_per_epoch(n: int, batch_size: int | None) -> int:
    """Optimiser steps per pass over ``n`` rows (the last minibatch may be partial)."""
    return 1 if batch_size is None else math.ceil(n / batch_size)


@dataclass(frozen=True)
class Schedule:
    r"""The learning rate and the KL weight as functions of the step number.

    Attributes
    ----------
    lr, lr_decay : float
        :math:`\eta` and :math:`d`: the rate decays from ``lr`` to ``lr * lr_decay``.
    total : int
        :math:`T`, the steps of the whole run.
    kl_warmup : int
        :math:`W`, the warm-up length in steps (0: none).
    """

    lr: float
    total: int
    lr_decay: float = 1.0  # constant
    kl_warmup: int = 0  # none

    def decay(self, step: int) -> float:
        r"""The factor :math:`d^{\,t/(T-1)}` by which step ``step`` scales ``lr``."""
        span = max(self.total - 1, 1)
        return self.lr_decay ** (min(step, span) / span)

    def rate(self, step: int) -> float:
        """The learning rate of step ``step``."""
        return self.lr * self.decay(step)

    def ramp(self, step: int) -> float:
        """The warm-up factor :math:`r_t` of the KL term at step ``step``."""
        return min(1.0, (step + 1) / self.kl_warmup) if self.kl_warmup else 1.0


class StepRules:
    """A pair, its objective and its schedule: what every SVI step and epoch end does.

    Parameters
    ----------
    pair : object
        A model/guide pair; with ``kl_weight`` and ``beta`` attributes it is warmed up.
    schedule : Schedule
        The learning-rate and warm-up schedule.
    objective : ELBO, optional
        The pair's objective (default: :func:`objective_of`).
    history : History, optional
        The curves recorded so far (a resumed run continues them).
    """

    def __init__(self, pair: Any, schedule: Schedule, *, objective: ELBO | None = None,
                 history: History | None = None) -> None:
        self.pair, self.schedule = pair, schedule
        self.objective: Any = objective if objective is not None else objective_of(pair)
        self.history = history.copy() if history is not None else History()
        self.weighted = kl_weighted(pair)
        self.divergence = DivergenceGuard()

    def begin_step(self, step: int) -> float:
        """Set the KL weight for step ``step`` and return its learning rate."""
        if self.weighted:
            weight = self.pair.beta * self.schedule.ramp(step)
            if self.pair.kl_weight != weight:  # (three PyroModule attributes to set)
                self.pair.kl_weight = weight
        return self.schedule.rate(step)

    def check(self, loss: float, step: int, parameters: Sequence[torch.Tensor],
              optimizer: torch.optim.Optimizer | None,
              grads: Sequence[torch.Tensor] = ()) -> None:
        """Check step ``step`` before its update (``loss`` in nats per datapoint).

        A good step may be kept as the state to return to; a diverged one puts the last kept
        state back and raises :class:`~pvae.train.divergence.DivergenceError`.
        """
        reason = self.divergence.problem(loss, grads)
        if reason is not None:
            self.diverged(reason, step, parameters, optimizer)
        self.divergence.keep(step, parameters, optimizer)

    def diverged(self, reason: str, step: int, parameters: Sequence[torch.Tensor],
                 optimizer: torch.optim.Optimizer | None) -> NoReturn:
        """Put the last good state back and raise: ``reason`` says what diverged."""
        restored = self.divergence.roll_back(parameters, optimizer)
        raise self.divergence.error(reason, step, restored, self.schedule.rate(step))

    def restore(self) -> None:
        """Leave the pair at its own ``beta`` (after a run, or one stopped by an error)."""
        if self.weighted:
            self.pair.kl_weight = self.pair.beta

    @contextlib.contextmanager
    def running(self) -> Iterator[StepRules]:
        """A block of training after which the pair is back at its ``beta``."""
        try:
            yield self
        finally:
            self.restore()

    def validation_loss(self, x: torch.Tensor, batch_size: int | None,
                        transform: Transform | None) -> float:
        """The true objective (KL weight 1) on ``x``, nats per datapoint, without gradients."""
        total = 0.0
        step = batch_size or len(x)
        with torch.no_grad(), unit_kl_weight(self.pair):
            for start in range(0, x.shape[0], step):
                batch = x[start:start + step]
                batch = transform(batch) if transform else batch
                total += float(self.objective.loss(self.pair.model, self.pair.guide, batch))
        return total / x.shape[0]

    def end_epoch(self, epoch: int, epoch_losses: Sequence[float], *,
                  validation: torch.Tensor | None = None, batch_size: int | None = None,
                  transform: Transform | None = None,
                  terms_on: torch.Tensor | None = None) -> None:
        """Record epoch ``epoch``: its mean loss, the validation objective, the ELBO's terms.

        The validation objective draws from the run's random stream (as every step does);
        the terms are recorded without touching it.
        """
        self.history.epoch.append(epoch)
        self.history.loss.append(sum(epoch_losses) / max(len(epoch_losses), 1))
        if validation is not None:
            self.history.validation.append(self.validation_loss(validation, batch_size,
                                                                transform))
        if terms_on is not None:
            with rng_untouched(terms_on), buffers_kept(self.pair.model, self.pair.guide):
                terms = elbo_terms(self.pair, terms_on)
            self.history.reconstruction.append(terms.reconstruction)
            self.history.kl.append(terms.kl)
