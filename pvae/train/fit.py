"""``pvae.fit``: check everything once, then hand the fit to an engine."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pyro
import torch

from ..pair import check_observations, check_pair, data_check, initializer, kl_weighted, minibatches
from ..validation import as_data
from .convergence import ConvergenceWarning, convergence_gap, has_converged
from .engines import Engine, engines
from .options import DEFAULT_STEPS, MAX_STEPS, OPTION_NAMES, FitOptions, resolve_device
from .plan import FitPlan
from .result import FitResult
from .resume import check_resume
from .state import TrainingState
from .step import Schedule, batches_per_epoch, objective_of, optimizer_factory

__all__ = ["fit", "resolve_device"]

def _svi_steps(steps: int | None, epochs: int | None, per_epoch: int) -> int:
    if epochs is not None:
        return epochs * per_epoch
    return steps if steps is not None else DEFAULT_STEPS


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
    lr: float = 0.01,
    lr_decay: float = 1.0,
    optimizer: str | Callable[..., torch.optim.Optimizer] = "adam",
    n_init: int = 1,
    reinitialize: bool = True,
    transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
    validation: Any = None,
    terms_on: Any = None,
    kl_warmup: int = 0,
    patience: int | None = None,
    time_limit: float | None = None,
    max_iter: int = 1000,
    tol: float = 1e-06,
    device: str | torch.device = "auto",
    seed: int | None = None,
    progress: bool = True,
    resume: TrainingState | None = None,
    on_epoch_end: Callable[[TrainingState], None] | None = None,
    engine: str | dict[str, Any] | Engine = "pvae",
) -> FitResult:
    """Fit a model/guide pair to data by maximising its objective.

    Settings that only one method reads (SVI: ``steps``, ``epochs``, ``batch_size``,
    ``lr``, ``lr_decay``, ``optimizer``, ``transform``, ``validation``, ``terms_on``,
    ``kl_warmup``, ``resume``, ``on_epoch_end``; EM: ``max_iter``) are refused with the other
    method, and ``kl_warmup`` with a pair that has no KL weight: a setting is never ignored.

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
    steps : int, optional
        SVI length in optimiser steps; with neither ``steps`` nor ``epochs``,
        :data:`~pvae.train.options.DEFAULT_STEPS` (1000).
    epochs : int, optional
        SVI length in passes over the data (one step per minibatch), instead of ``steps``.
    batch_size : int, optional
        Minibatch size for SVI; ``None`` uses all the data in every step. Minibatches are
        taken by index from the data held on the device, and the ELBO is scaled to N.
    lr : float
        The learning rate (the defaults are :data:`pvae.train.options.DEFAULTS`, shared by
        every engine and config; a test pins this signature to them).
    lr_decay : float
        The factor by which the learning rate has decayed, geometrically, by the last step.
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
    patience : int, optional
        Early stopping: end SVI once the validation objective has not improved for this many
        epochs (it needs ``validation``). The pair keeps its last parameters;
        ``result.stopped_early`` says whether it stopped, and ``pvae train`` keeps the best
        epoch's parameters in ``best.pt``.
    time_limit : float, optional
        Stop after the SVI step or EM iteration that passes this many seconds (a CPU
        budget; at least one always runs); the result's ``steps`` says how far it got.
    max_iter : int
        EM stops after this many iterations (SVI's length is ``steps`` or ``epochs``).
    tol : float
        EM stops when the mean log-likelihood changes by less than this many nats per
        datapoint; SVI's convergence check uses it too.
    device : {"auto", "cpu", "cuda"} or torch.device
        Where to fit; ``"auto"`` takes CUDA when present. The pair is moved there.
    seed : int, optional
        Seeds Pyro, torch and Python before fitting, and the restarts' initialisations: what
        training draws. It does not re-draw the weights the model was built with (a fit
        may continue from trained or hand-set weights): build the model from a seed too,
        ``pvae.VAE(..., seed=0)``, and the same script gives the same final loss to the bit.
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
    settings = {name: value for name, value in locals().items() if name in OPTION_NAMES}
    plan_engine, plan = _plan(pair, data, FitOptions(**settings))
    result = plan_engine.run(pair, plan)
    if not isinstance(result, FitResult):
        raise TypeError(f"engine {plan_engine.name!r} returned {type(result).__name__!r}, not "
                        "a FitResult: its run(pair, plan) must return one")
    if plan.options.method == "svi":
        # stopping early is the validation objective's own convergence (patience epochs flat)
        result = replace(result, converged=result.stopped_early
                         or has_converged(result.losses, plan.options.tol))
    if result.converged is False:
        warnings.warn(_unconverged(result, plan), ConvergenceWarning, stacklevel=2)
    return result


def _unconverged(result: FitResult, plan: FitPlan) -> str:
    if plan.options.method == "em":
        return (f"EM stopped after max_iter={plan.options.max_iter} iterations before its change "
                f"fell below tol={plan.options.tol}; raise max_iter")
    gap = convergence_gap(result.losses, plan.options.tol)
    if gap is None:
        return (f"{result.steps} SVI steps are too few to tell whether the fit converged "
                "(see pvae.train.convergence); run more steps")
    return (f"the fit had not converged after {result.steps} steps: the mean loss of its last "
            f"steps still moved by {gap[0]:.3g} nats per datapoint, more than the {gap[1]:.3g} "
            "its noise explains (pvae.train.convergence); run more steps or raise lr")


def _plan(pair: Any, data: Any, options: FitOptions) -> tuple[Engine, FitPlan]:
    """Check the pair and the data against ``options`` before any work; engine and plan."""
    check_pair(pair)
    runner: Engine = engines.resolve(options.engine)
    method, n_init, batch_size = options.method, options.n_init, options.batch_size
    reinitialize = options.reinitialize
    if options.resume is not None:
        if method != "svi" or n_init != 1:
            raise ValueError("resume continues a single SVI run: it needs method='svi' and "
                             f"n_init=1; got method={method!r}, n_init={n_init}")
        reinitialize = False  # the parameters are the checkpoint's
    initialize = initializer(pair) if reinitialize else None
    if n_init > 1 and initialize is None:
        raise ValueError(f"n_init={n_init} needs a pair with initialize(x, generator) and "
                         f"reinitialize=True; {type(pair).__name__} has none or it is off")
    make_optimizer = optimizer_factory(options.optimizer, options.lr)
    transform = options.transform
    x = _checked(pair, data, transform, "data")
    x_validation = (None if options.validation is None
                    else _checked(pair, options.validation, transform, "validation data"))
    if options.patience is not None and x_validation is None:
        raise ValueError(f"patience={options.patience} stops on the validation objective; "
                         "pass validation=... (held-out rows), or leave patience out")
    x_terms = None if options.terms_on is None else _checked(pair, options.terms_on, None,
                                                             "terms_on")
    target = options.target_device
    if isinstance(pair, torch.nn.Module):
        pair.to(device=target, dtype=x.dtype)
    x = x.to(target)
    x_validation, x_terms = (None if rows is None else rows.to(device=target, dtype=x.dtype)
                             for rows in (x_validation, x_terms))
    if options.seed is not None and options.resume is None:
        pyro.set_rng_seed(options.seed)
    if initializer(pair) is None:  # one that needs it cannot run yet
        check_pair(pair, x)  # the model's and the guide's sites agree
        if data_check(pair) is None:  # a foreign pair: its model judges the data, every row
            check_observations(pair, x if transform is None else transform(x))
    scaling = minibatches(pair, x, batch_size)  # and how a minibatch is scaled to N rows
    base_seed = (options.seed if options.seed is not None
                 else int(torch.randint(2**31 - 1, (1,))))
    if options.kl_warmup and not kl_weighted(pair):
        raise ValueError(f"kl_warmup ramps a KL weight, and {type(pair).__name__} has none "
                         "(no kl_weight and beta attributes); leave kl_warmup out")
    objective = objective_of(pair)  # (a foreign JitTrace_ELBO is refused here)
    per_epoch = batches_per_epoch(x.shape[0], batch_size)
    total = (_svi_steps(options.steps, options.epochs, per_epoch) if method == "svi"
             else options.max_iter)
    if total > MAX_STEPS:
        raise ValueError(f"{options.epochs} epochs of {per_epoch} steps are {total} steps, "
                         f"more than any run needs (at most {MAX_STEPS}); use fewer epochs or "
                         "larger batches")
    if options.resume is not None:
        check_resume(options.resume, total=total, per_epoch=per_epoch, batch_size=batch_size,
                     num_data=x.shape[0])
    plan = FitPlan(
        options=options, x=x, validation=x_validation, terms_on=x_terms, device=target,
        schedule=Schedule(lr=options.lr, total=total, lr_decay=options.lr_decay,
                          kl_warmup=options.kl_warmup),
        objective=objective, make_optimizer=make_optimizer, minibatches=scaling,
        per_epoch=per_epoch, initialize=initialize if callable(initialize) else None,
        base_seed=base_seed)
    refused = runner.refuses(plan)
    if refused:
        raise ValueError(f"engine={runner.name!r} does not take {', '.join(refused)}; use "
                         "engine='pvae'")
    return runner, plan
