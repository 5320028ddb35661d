"""The SVI loop: minibatches by index, a guarded optimiser step, KL warm-up, validation."""

from __future__ import annotations

import contextlib
import copy
import math
import time
from collections.abc import Callable, Iterator
from typing import Any

import torch
from pyro import poutine
from tqdm.auto import tqdm

from ..objectives import is_compiled
from .state import TrainingState, capture_rng, restore_rng, rng_untouched

__all__ = ["NonFiniteLossError", "batches_per_epoch", "run_svi", "true_objective"]


class NonFiniteLossError(FloatingPointError):
    """The loss or a gradient became NaN or infinite; the parameters were not updated."""


class _SVIStepper:
    """SVI with a single torch optimiser; refuses a step whose loss or gradient is not finite.

    The optimiser is driven through a closure, so line-search methods (L-BFGS) work as
    well as Adam. Parameters are found by tracing, the first time they appear.
    """

    def __init__(self, pair: Any, objective: Any, make_optimizer: Callable[..., Any],
                 optimizer_state: dict[str, Any] | None = None) -> None:
        self.pair = pair
        self.optimizer_state = optimizer_state
        self.objective = objective
        self.make_optimizer = make_optimizer
        self.optimizer: torch.optim.Optimizer | None = None
        self.seen: set[int] = set()
        self.params: list[torch.Tensor] = []
        # A module's parameters keep their identity, so tracing for them once is enough;
        # other pairs may create pyro.param sites at any step and are traced every time.
        self.trace_every_step = not isinstance(pair, torch.nn.Module)

    def _loss_and_grads(self, number: int, *args: Any, **kwargs: Any) -> float:
        if self.params and not self.trace_every_step:
            loss = self.objective.loss_and_grads(self.pair.model, self.pair.guide, *args, **kwargs)
            params = self.params
        else:
            with poutine.trace(param_only=True) as capture:
                loss = self.objective.loss_and_grads(self.pair.model, self.pair.guide, *args,
                                                     **kwargs)
            nodes: dict[str, Any] = capture.trace.nodes
            params = [site["value"].unconstrained() for site in nodes.values()]
            self._track(params)
        grads = [p.grad for p in params if p.grad is not None]
        finite = math.isfinite(loss) and (
            not grads or bool(torch.isfinite(torch.stack([g.sum() for g in grads])).all())
        )
        if not finite:
            for p in params:
                p.grad = None
            raise NonFiniteLossError(
                f"the loss or its gradient became non-finite at step {number} (loss={loss}); "
                "the parameters are kept as they were after the last finite step. Lower the "
                "learning rate, or check the data and the model's initialisation."
            )
        return float(loss)

    def step(self, number: int, lr: float, *args: Any, **kwargs: Any) -> float:
        if self.optimizer is None:  # the first call finds the parameters ...
            with rng_untouched(args[0]):  # ... without using up random numbers
                self._loss_and_grads(number, *args, **kwargs)
            assert self.optimizer is not None
            if self.optimizer_state is not None:  # a resumed run continues its moments
                self.optimizer.load_state_dict(self.optimizer_state)
        assert self.optimizer is not None
        for group in self.optimizer.param_groups:
            group["lr"] = lr

        def closure() -> torch.Tensor:
            assert self.optimizer is not None
            self.optimizer.zero_grad(set_to_none=True)
            return torch.tensor(self._loss_and_grads(number, *args, **kwargs))

        # Returns the loss at the parameters the step started from.
        return float(self.optimizer.step(closure))  # type: ignore[arg-type]

    def _track(self, params: list[torch.Tensor]) -> None:
        new = [p for p in params if id(p) not in self.seen]
        if not new:
            return
        self.seen.update(id(p) for p in new)
        self.params.extend(new)
        if self.optimizer is None:
            self.optimizer = self.make_optimizer(new)
        else:
            self.optimizer.add_param_group({"params": new})


@contextlib.contextmanager
def true_objective(pair: Any) -> Iterator[None]:
    """Within this block a pair with a KL weight (``kl_weight``) scores its true ELBO."""
    weight = getattr(pair, "kl_weight", None)
    if weight is None:
        yield
        return
    pair.kl_weight = 1.0
    try:
        yield
    finally:
        pair.kl_weight = weight


def _mean_loss(objective: Any, pair: Any, x: torch.Tensor, batch_size: int,
               transform: Callable[[torch.Tensor], torch.Tensor] | None) -> float:
    """The objective on ``x`` in nats per datapoint, without gradients, batch by batch."""
    total = 0.0
    with torch.no_grad(), true_objective(pair):
        for start in range(0, x.shape[0], batch_size):
            batch = x[start:start + batch_size]
            batch = transform(batch) if transform else batch
            total += float(objective.loss(pair.model, pair.guide, batch))
    return total / x.shape[0]


def batches_per_epoch(n: int, batch_size: int | None, objective: Any) -> int:
    """Optimiser steps per pass over ``n`` rows (a compiled objective drops the last one)."""
    if batch_size is None:
        return 1
    if is_compiled(objective):  # it keeps the scale N / B it first saw: equal batches only
        return max(1, n // batch_size)
    return math.ceil(n / batch_size)


def run_svi(pair: Any, x: torch.Tensor, bar: tqdm, objective: Any, *, total: int,
            batch_size: int | None,
            lr: float, lr_decay: float, make_optimizer: Callable[..., Any],
            transform: Callable[[torch.Tensor], torch.Tensor] | None, kl_warmup: int,
            validation: torch.Tensor | None,
            time_limit: float | None = None, resume: TrainingState | None = None,
            on_epoch_end: Callable[[TrainingState], None] | None = None,
            ) -> tuple[list[float], list[float]]:
    """Run SVI up to step ``total``; return the losses and the per-epoch validation losses.

    Every loss is in nats per datapoint (the objective of a minibatch is already scaled to
    the whole data set by the model's plate, and is divided by N here). ``resume`` continues
    a run from its state (the pair's parameters must already be restored); ``on_epoch_end``
    receives the state after every epoch.
    """
    stepper = _SVIStepper(pair, objective, make_optimizer,
                          resume.optimizer if resume is not None else None)
    n = x.shape[0]
    losses = list(resume.losses) if resume is not None else []
    validation_losses = list(resume.validation_losses) if resume is not None else []
    first = resume.step if resume is not None else 0
    if resume is not None:
        restore_rng(resume.rng)
        bar.update(first)
    order = torch.arange(n, device=x.device)
    per_epoch = batches_per_epoch(n, batch_size, objective)
    weighted = getattr(pair, "kl_weight", None) is not None and hasattr(pair, "beta")
    started = time.perf_counter()
    try:
        for number in range(first, total):
            if time_limit is not None and time.perf_counter() - started > time_limit:
                break
            if weighted:
                ramp = min(1.0, (number + 1) / kl_warmup) if kl_warmup else 1.0
                pair.kl_weight = pair.beta * ramp
            position = number % per_epoch
            if batch_size is None:
                batch, kwargs = x, {}
            else:
                if position == 0:  # a new epoch, in a new order
                    order = torch.randperm(n, device=x.device)
                batch = x[order[position * batch_size:(position + 1) * batch_size]]
                kwargs = {"num_data": n}
            batch = transform(batch) if transform else batch
            rate = lr * lr_decay ** (number / max(total - 1, 1))
            losses.append(stepper.step(number, rate, batch, **kwargs) / n)
            bar.update()
            if number % 10 == 0 or number == total - 1:
                bar.set_postfix(elbo=f"{-losses[-1]:.4f} nats/pt", refresh=False)
            if position != per_epoch - 1:
                continue
            if validation is not None:
                validation_losses.append(_mean_loss(objective, pair, validation,
                                                    batch_size or len(validation), transform))
            if on_epoch_end is not None:
                assert stepper.optimizer is not None
                on_epoch_end(TrainingState(
                    step=number + 1, epoch=(number + 1) // per_epoch, losses=list(losses),
                    validation_losses=list(validation_losses),
                    optimizer=copy.deepcopy(stepper.optimizer.state_dict()),
                    rng=capture_rng()))
    finally:  # a warm-up interrupted by an error still leaves the pair at its beta
        if weighted:
            pair.kl_weight = pair.beta
    return losses, validation_losses


