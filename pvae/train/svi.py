"""pvae's SVI loop: minibatches by index and a guarded optimiser step, on the step core."""

from __future__ import annotations

import copy
import os
import time
import traceback
from collections.abc import Callable
from typing import Any

import torch
from pyro import poutine

from ..pair import PairError, buffers_kept
from .divergence import all_finite
from .plan import FitPlan
from .resume import check_optimizer_state
from .state import TrainingState, capture_rng, restore_rng, rng_untouched
from .step import OPTIMIZERS, StepRules

__all__ = ["ONE_EVALUATION", "run_svi"]

#: torch's optimisers that evaluate the loss once per step (a line search, L-BFGS, evaluates
#: it many times and is driven through a closure): for them the step calls the loss itself
ONE_EVALUATION = frozenset(OPTIMIZERS.values())


def _from_a_distribution(error: ValueError) -> bool:
    """Whether ``error`` is a distribution's argument check (raised inside torch)."""
    frames = traceback.extract_tb(error.__traceback__)
    return type(error) is ValueError and bool(frames) and \
        f"torch{os.sep}distributions" in frames[-1].filename


class _SVIStepper:
    """SVI with a single torch optimiser; refuses a step whose loss or gradient is not finite.

    An optimiser other than torch's one-evaluation ones (:data:`ONE_EVALUATION`) is driven
    through a closure, so line-search methods (L-BFGS) work as well as Adam. Parameters are
    found by tracing, the first time they appear.
    """

    def __init__(self, pair: Any, core: StepRules, make_optimizer: Callable[..., Any],
                 num_data: int, optimizer_state: dict[str, Any] | None = None) -> None:
        self.pair = pair
        self.optimizer_state = optimizer_state
        self.core = core
        self.objective: Any = core.objective
        self.make_optimizer = make_optimizer
        self.num_data = num_data
        self.optimizer: torch.optim.Optimizer | None = None
        self.seen: set[int] = set()
        self.params: list[torch.Tensor] = []
        # A module's parameters keep their identity, so tracing for them once is enough;
        # other pairs may create pyro.param sites at any step and are traced every time.
        self.trace_every_step = not isinstance(pair, torch.nn.Module)

    def _objective(self, model: Callable[..., Any], guide: Callable[..., Any], *args: Any,
                   **kwargs: Any) -> tuple[float, list[torch.Tensor]]:
        """The loss and gradients at the current parameters, and those parameters."""
        if self.params and not self.trace_every_step:
            loss = self.objective.loss_and_grads(model, guide, *args, **kwargs)
            return loss, self.params
        with poutine.trace(param_only=True) as capture:
            loss = self.objective.loss_and_grads(model, guide, *args, **kwargs)
        nodes: dict[str, Any] = capture.trace.nodes
        params = [site["value"].unconstrained() for site in nodes.values()]
        self._track(params)
        return loss, params

    def _loss_and_grads(self, number: int, *args: Any, **kwargs: Any) -> float:
        try:
            loss, params = self._objective(*args, **kwargs)
        except ValueError as error:  # a distribution check: are the parameters still finite?
            first = str(error).splitlines()[0] if str(error) else type(error).__name__
            if self.params and not all_finite(self.params):
                self.core.diverged(f"a parameter became NaN or infinite ({first})", number,
                                   self.params, self.optimizer)
            if _from_a_distribution(error):
                raise PairError(
                    f"at step {number} the pair built a distribution from invalid values while "
                    f"its parameters are finite ({first}): its model or guide computes NaN or "
                    "infinity from them on this data; check them there") from error
            raise
        grads = [p.grad for p in params if p.grad is not None]
        try:
            self.core.check(float(loss) / self.num_data, number, params, self.optimizer, grads)
        except FloatingPointError:
            for p in params:
                p.grad = None
            raise
        return float(loss)

    def step(self, number: int, lr: float, model: Callable[..., Any],
             guide: Callable[..., Any], batch: torch.Tensor, **kwargs: Any) -> float:
        """One optimiser step on ``batch``; the loss at the parameters it started from."""
        args = (model, guide, batch)
        optimizer = self.optimizer
        if optimizer is None:  # the first call finds the parameters ...
            # ... without using up random numbers or updating the modules' state
            with rng_untouched(batch), buffers_kept(self.pair.model, self.pair.guide):
                self._loss_and_grads(number, *args, **kwargs)
            optimizer = self.optimizer
            assert optimizer is not None
            if self.optimizer_state:  # a resumed run continues its moments
                check_optimizer_state(optimizer, self.optimizer_state)
                optimizer.load_state_dict(self.optimizer_state)
        for group in optimizer.param_groups:
            group["lr"] = lr
        if type(optimizer) in ONE_EVALUATION:  # what step(closure) would do, less a tensor
            optimizer.zero_grad(set_to_none=True)
            loss = self._loss_and_grads(number, *args, **kwargs)
            optimizer.step()
            return loss

        def closure() -> torch.Tensor:  # (float64: a line search compares these losses)
            optimizer.zero_grad(set_to_none=True)
            return torch.tensor(self._loss_and_grads(number, *args, **kwargs),
                                dtype=torch.float64)

        # Returns the loss at the parameters the step started from.
        return float(optimizer.step(closure))  # type: ignore[arg-type]

    def _track(self, params: list[torch.Tensor]) -> None:
        new = [p for p in params if id(p) not in self.seen]
        if not new:
            return
        self.seen.update(id(p) for p in new)
        self.params.extend(new)
        if self.optimizer is None:
            self.optimizer = self.make_optimizer(new)
            if not isinstance(self.optimizer, torch.optim.Optimizer):
                raise TypeError(f"optimizer must make a torch.optim.Optimizer from the "
                                f"parameters; it made a {type(self.optimizer).__name__}")
        else:
            self.optimizer.add_param_group({"params": new})


def stalled(validation: list[float], patience: int | None) -> bool:
    """Whether the last ``patience`` epochs' validation losses all failed to beat an earlier one."""
    if patience is None or len(validation) <= patience:
        return False
    best = min(range(len(validation)), key=validation.__getitem__)  # the first best epoch
    return len(validation) - 1 - best >= patience


def run_svi(pair: Any, plan: FitPlan, core: StepRules, bar: Any) -> tuple[list[float], bool]:
    """Run SVI up to step ``plan.total``; return every step's loss and whether it stopped early.

    The core keeps the history; ``plan.options.patience`` stops the run once the validation
    loss has not improved for that many epochs.

    Every loss is in nats per datapoint (the objective of a minibatch is already scaled to
    the whole data set by the model's plate, and is divided by N here). ``plan.options.resume``
    continues a run from its state (the pair's parameters must already be restored);
    ``plan.options.on_epoch_end`` receives the state after every epoch.
    """
    resume = plan.options.resume
    x, batch_size, per_epoch = plan.x, plan.options.batch_size, plan.per_epoch
    limit, transform = plan.options.time_limit, plan.options.transform
    n = x.shape[0]
    stepper = _SVIStepper(pair, core, plan.make_optimizer, n,
                          resume.optimizer if resume is not None else None)
    losses = list(resume.losses) if resume is not None else []
    first = resume.step if resume is not None else 0
    if resume is not None:
        restore_rng(resume.rng)
        bar.update(first)
    order = torch.arange(n, device=x.device)
    callables: dict[int, tuple[Callable[..., Any], Callable[..., Any], dict[str, Any]]] = {}
    started = time.perf_counter()
    with core.running():
        for number in range(first, plan.total):
            if limit is not None and number > first and time.perf_counter() - started > limit:
                break
            rate = core.begin_step(number)
            position = number % per_epoch
            if batch_size is None:
                batch = x
            else:
                if position == 0:  # a new epoch, in a new order
                    order = torch.randperm(n, device=x.device)
                batch = x[order[position * batch_size:(position + 1) * batch_size]]
            batch = transform(batch) if transform else batch
            scored = callables.get(len(batch))
            if scored is None:  # (once per batch size: the full minibatches, the last one)
                scored = callables[len(batch)] = plan.minibatches.callables(pair, len(batch))
            model, guide, kwargs = scored
            losses.append(stepper.step(number, rate, model, guide, batch, **kwargs) / n)
            if number % 10 == 0 or number == plan.total - 1 or position == per_epoch - 1:
                bar.set_postfix(elbo=f"{-losses[-1]:.4f} nats/pt", refresh=False)
            bar.update()
            if position != per_epoch - 1:
                continue
            epoch = (number + 1) // per_epoch
            core.end_epoch(epoch, losses[-per_epoch:], validation=plan.validation,
                           batch_size=batch_size, transform=transform,
                           terms_on=plan.terms_on)
            if plan.options.on_epoch_end is not None:
                assert stepper.optimizer is not None
                plan.options.on_epoch_end(TrainingState(
                    step=number + 1, epoch=epoch, losses=list(losses),
                    optimizer=copy.deepcopy(stepper.optimizer.state_dict()),
                    rng=capture_rng(), history=core.history.copy(), batch_size=batch_size,
                    num_data=n))
            if stalled(core.history.validation, plan.options.patience):
                return losses, True
    return losses, False
