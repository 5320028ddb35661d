"""``pvae.fit``: check everything once, then hand the fit to an engine."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pyro
import torch

from ..objectives import is_compiled
from ..pair import check_pair, data_check, initializer, minibatches
from ..validation import as_data
from .convergence import ConvergenceWarning, convergence_gap, has_converged
from .engines import Engine, engines
from .options import MAX_STEPS, check_options, resolve_device
from .plan import FitPlan
from .result import FitResult
from .state import TrainingState
from .step import DEFAULTS, Schedule, batches_per_epoch, objective_of, optimizer_factory

__all__ = ["fit", "resolve_device"]

def _svi_steps(steps: int | None, epochs: int | None, per_epoch: int) -> int:
    if epochs is not None:
        return epochs * per_epoch
    return steps if steps is not None else DEFAULTS.steps


def _checked(pair: Any, data: Any, transform: Callable[[torch.Tensor], torch.Tensor] | None,
             name: str) -> torch.Tensor:
    """Validate ``data`` (as the model will see it, after ``transform``) and return it."""
    check = data_check(pair)
    if check is None:
        return as_data(data, name=name)
    if transform is None:
        return check(data)
    raw = as_data(data, event_dims=tuple(range(8)), name=name)
    check(transform(raw))
    return raw


def fit(
    pair: Any,
    data: Any,
    *,
    method: str = "svi",
    steps: int | None = None,
    epochs: int | None = None,
    batch_size: int | None = None,
    lr: float = DEFAULTS.lr,
    lr_decay: float = DEFAULTS.lr_decay,
    optimizer: str | Callable[..., torch.optim.Optimizer] = DEFAULTS.optimizer,
    n_init: int = 1,
    reinitialize: bool = True,
    transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
    validation: Any = None,
    terms_on: Any = None,
    kl_warmup: int = DEFAULTS.kl_warmup,
    time_limit: float | None = None,
    max_iter: int = 1000,
    tol: float = 1e-6,
    device: str | torch.device = "auto",
    seed: int | None = None,
    progress: bool = True,
    resume: TrainingState | None = None,
    on_epoch_end: Callable[[TrainingState], None] | None = None,
    engine: str | dict[str, Any] | Engine = "pvae",
) -> FitResult:
    """Fit a model/guide pair to data by maximising its objective.

    Parameters
    ----------
    pair : object
        Anything with ``model`` and ``guide`` callables that take ``(x, num_data=None)``.
        Optional hooks: ``objective()`` (an ELBO; ``Trace_ELBO`` when absent),
        ``check_data(x)`` (validation), ``initialize(x, generator)`` (data-dependent
        start, needed for ``n_init > 1``), ``m_step(x, responsibilities)`` (for EM) and
        ``log_likelihood(x)`` (to choose between restarts).
    data : tensor, numpy array or list
        One observation per row. Floating-point data keeps its dtype, and the pair's
        parameters are cast to it.
    method : {"svi", "em"}
        Gradient steps on the pair's ELBO, or expectation-maximisation.
    steps, epochs : int, optional
        SVI length: optimiser steps, or passes over the data (one step per minibatch).
        The default is ``DEFAULTS.steps`` (1000) steps.
    batch_size : int, optional
        Minibatch size for SVI; ``None`` uses all the data in every step. Minibatches are
        taken by index from the data held on the device, and the ELBO is scaled to N.
    lr, lr_decay : float
        The learning rate, decayed geometrically to ``lr * lr_decay`` by the last step
        (defaults: :data:`pvae.train.step.DEFAULTS`, shared by every engine and config).
    optimizer : str or callable
        A name in :data:`OPTIMIZERS` or a callable ``params -> torch.optim.Optimizer``.
    n_init : int
        Restarts from different initialisations; the one with the best final
        log-likelihood (or loss) is kept.
    reinitialize : bool
        Call the pair's ``initialize`` (when it has one) before fitting. ``False``
        continues from the current parameters; it needs ``n_init=1``.
    transform : callable, optional
        Applied to every minibatch before the step, e.g.
        :func:`pvae.data.dynamic_binarization` for a fresh binary draw each epoch. The data
        is checked after one transform of the whole set.
    validation : array-like, optional
        Held-out data scored (true objective, no gradient) after every epoch, in
        :attr:`FitResult.validation_losses` (``result.history.validation``).
    terms_on : array-like, optional
        Rows on which the ELBO's reconstruction and KL terms are recorded after every epoch,
        in ``result.history`` (as the model sees them: already transformed).
    kl_warmup : int
        For pairs with a KL weight (the VAE): ramp it linearly from 0 to ``beta`` over this
        many steps. The losses during the ramp are of the weighted objective.
    time_limit : float, optional
        Stop SVI after the step that passes this many seconds (a CPU budget); the result's
        ``steps`` says how far it got.
    max_iter, tol : int, float
        EM stops after ``max_iter`` iterations or when the mean log-likelihood changes by
        less than ``tol`` nats per datapoint.
    device : {"auto", "cpu", "cuda"} or torch.device
        Where to fit; ``"auto"`` takes CUDA when present. The pair is moved there.
    seed : int, optional
        Seeds Pyro, torch and Python before fitting, and the restarts' initialisations.
    progress : bool
        Show a progress bar (only when standard error is a terminal).
    resume : TrainingState, optional
        Continue an SVI run from the state an earlier ``on_epoch_end`` received; restore the
        pair's parameters first and pass the same data and settings. The random generators
        are restored from the state (``seed`` is not used), so on the CPU every later loss
        equals the uninterrupted run's.
    on_epoch_end : callable, optional
        Called with a :class:`~pvae.train.state.TrainingState` after every epoch of SVI
        (after the validation score), e.g. to write a checkpoint.
    engine : str, dict or Engine
        Where the fit runs, by name, spec or object (:data:`pvae.train.engines.engines`).
        ``"pvae"`` runs the loop here, on one device. ``"lightning"`` hands SVI to PyTorch
        Lightning (:mod:`pvae.train.engines.lightning`, needs the ``lightning`` extra) for several
        devices or machines, with its settings in the spec:
        ``{"name": "lightning", "devices": 4, "num_nodes": 2, "strategy": "ddp",
        "precision": "bf16-mixed"}``. The pair, the objective and the other settings stay
        the same; under DDP ``batch_size`` is per process.

    Returns
    -------
    FitResult
        The loss history (nats per datapoint) of the kept run and what it took.
    """
    plan_engine, plan = _plan(**locals())
    result = plan_engine.run(pair, plan)
    if plan.method == "svi":
        result = replace(result, converged=has_converged(result.losses, plan.tol))
    if result.converged is False:
        warnings.warn(_unconverged(result, plan), ConvergenceWarning, stacklevel=2)
    return result


def _unconverged(result: FitResult, plan: FitPlan) -> str:
    if plan.method == "em":
        return (f"EM stopped after max_iter={plan.max_iter} iterations before its change fell "
                f"below tol={plan.tol}; raise max_iter")
    gap = convergence_gap(result.losses, plan.tol)
    if gap is None:
        return (f"{result.steps} SVI steps are too few to tell whether the fit converged "
                "(see pvae.train.convergence); run more steps")
    return (f"the fit had not converged after {result.steps} steps: the mean loss of its last "
            f"steps still moved by {gap[0]:.3g} nats per datapoint, more than the {gap[1]:.3g} "
            "its noise explains (pvae.train.convergence); run more steps or raise lr")


def _plan(pair: Any, data: Any, *, method: str, steps: int | None, epochs: int | None,
          batch_size: int | None, lr: float, lr_decay: float, optimizer: Any, n_init: int,
          reinitialize: bool, transform: Any, validation: Any, terms_on: Any, kl_warmup: int,
          time_limit: float | None, max_iter: int, tol: float, device: str | torch.device,
          seed: int | None, progress: bool, resume: TrainingState | None,
          on_epoch_end: Any, engine: Any) -> tuple[Engine, FitPlan]:
    """Check every argument of :func:`fit` before any work; return the engine and plan."""
    check_pair(pair)
    options = check_options(
        method=method, steps=steps, epochs=epochs, batch_size=batch_size, lr=lr,
        lr_decay=lr_decay, optimizer=optimizer, n_init=n_init, reinitialize=reinitialize,
        transform=transform, kl_warmup=kl_warmup, time_limit=time_limit, max_iter=max_iter,
        tol=tol, device=device, seed=seed, progress=progress, resume=resume,
        on_epoch_end=on_epoch_end, engine=engine)
    runner: Engine = engines.resolve(engine)
    n_init, batch_size, kl_warmup = options["n_init"], options["batch_size"], options["kl_warmup"]
    if resume is not None:
        if method != "svi" or n_init != 1:
            raise ValueError("resume continues a single SVI run: it needs method='svi' and "
                             f"n_init=1; got method={method!r}, n_init={n_init}")
        reinitialize = False  # the parameters are the checkpoint's
    initialize = initializer(pair) if reinitialize else None
    if n_init > 1 and initialize is None:
        raise ValueError(f"n_init={n_init} needs a pair with initialize(x, generator) and "
                         f"reinitialize=True; {type(pair).__name__} has none or it is off")
    lr = options["lr"]
    make_optimizer = optimizer_factory(optimizer, lr)
    x = _checked(pair, data, transform, "data")
    x_validation = None if validation is None else _checked(pair, validation, transform,
                                                            "validation data")
    x_terms = None if terms_on is None else _checked(pair, terms_on, None, "terms_on")
    target = options["device"]
    if isinstance(pair, torch.nn.Module):
        pair.to(device=target, dtype=x.dtype)
    x = x.to(target)
    x_validation, x_terms = (None if rows is None else rows.to(device=target, dtype=x.dtype)
                             for rows in (x_validation, x_terms))
    if seed is not None and resume is None:
        pyro.set_rng_seed(seed)
    if initializer(pair) is None:  # one that needs it cannot run yet
        check_pair(pair, x)  # the model's and the guide's sites agree
    scaling = minibatches(pair, x, batch_size)  # and how a minibatch is scaled to N rows
    base_seed = seed if seed is not None else int(torch.randint(2**31 - 1, (1,)))
    objective = objective_of(pair)
    if is_compiled(objective) and kl_warmup:
        raise ValueError("a compiled objective (jit=True) cannot follow a KL warm-up: its KL "
                         "weight is fixed when it compiles. Drop jit or kl_warmup.")
    per_epoch = batches_per_epoch(x.shape[0], batch_size, objective)
    total = _svi_steps(steps, epochs, per_epoch) if method == "svi" else options["max_iter"]
    if total > MAX_STEPS:
        raise ValueError(f"{epochs} epochs of {per_epoch} steps are {total} steps, more than "
                         f"any run needs (at most {MAX_STEPS}); use fewer epochs or larger "
                         "batches")
    plan = FitPlan(
        x=x, method=method, objective=objective, make_optimizer=make_optimizer,
        schedule=Schedule(lr=lr, total=total, lr_decay=options["lr_decay"],
                          kl_warmup=kl_warmup),
        batch_size=batch_size, minibatches=scaling, per_epoch=per_epoch, epochs=epochs,
        transform=transform, validation=x_validation, terms_on=x_terms, n_init=n_init,
        initialize=initialize if callable(initialize) else None, seed=seed, base_seed=base_seed,
        time_limit=options["time_limit"], max_iter=options["max_iter"], tol=options["tol"],
        device=target,
        device_request=device, progress=progress, resume=resume, on_epoch_end=on_epoch_end)
    refused = runner.refuses(plan)
    if refused:
        raise ValueError(f"engine={runner.name!r} does not take {', '.join(refused)}; use "
                         "engine='pvae'")
    return runner, plan
