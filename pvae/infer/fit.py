"""``pvae.fit``: one training loop for every model/guide pair."""

from __future__ import annotations

import copy
import sys
import time
from collections.abc import Callable
from typing import Any

import pyro
import torch
from pyro.infer import Trace_ELBO
from tqdm.auto import tqdm

from ..objectives import is_compiled
from ..validation import as_data, check_positive_int
from .em import run_em
from .result import FitResult
from .state import TrainingState
from .svi import batches_per_epoch, run_svi

__all__ = ["OPTIMIZERS", "accelerator_for", "fit", "optimizer_factory", "resolve_device"]

OPTIMIZERS: dict[str, Callable[..., torch.optim.Optimizer]] = {
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "rmsprop": torch.optim.RMSprop,
    "sgd": torch.optim.SGD,
}
METHODS = ("svi", "em")
ENGINES = ("pvae", "lightning")


def resolve_device(device: str | torch.device) -> torch.device:
    """``"auto"`` picks CUDA when there is one and the CPU otherwise."""
    if isinstance(device, str) and device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    resolved = torch.device(device)
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} was asked for but CUDA is not available here; "
                         "use device='auto' or 'cpu'")
    return resolved


def optimizer_factory(optimizer: str | Callable[..., torch.optim.Optimizer],
                      lr: float) -> Callable[..., torch.optim.Optimizer]:
    """``params -> optimiser`` for a name in :data:`OPTIMIZERS` (at ``lr``) or a callable."""
    if not isinstance(optimizer, str):
        return optimizer
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {optimizer!r}; choose one of "
                         f"{', '.join(OPTIMIZERS)} or pass a callable")
    optimizer_class = OPTIMIZERS[optimizer]

    def make_optimizer(params: list[torch.Tensor]) -> torch.optim.Optimizer:
        return optimizer_class(params, lr=lr)

    return make_optimizer


def accelerator_for(device: str | torch.device) -> str:
    """Lightning's name for a pvae device: ``"auto"``, ``"cpu"`` or ``"gpu"`` (checked)."""
    if isinstance(device, str) and device == "auto":
        return "auto"
    return {"cpu": "cpu", "cuda": "gpu"}[resolve_device(device).type]


def _svi_steps(steps: int | None, epochs: int | None, per_epoch: int) -> int:
    if steps is not None and epochs is not None:
        raise ValueError("give either steps or epochs, not both")
    if epochs is not None:
        return check_positive_int(epochs, "epochs") * per_epoch
    return check_positive_int(steps if steps is not None else 1000, "steps")


def _checked(pair: Any, data: Any, transform: Callable[[torch.Tensor], torch.Tensor] | None,
             name: str) -> torch.Tensor:
    """Validate ``data`` (as the model will see it, after ``transform``) and return it."""
    check = getattr(pair, "check_data", None)
    if not callable(check):
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
    kl_warmup: int = 0,
    time_limit: float | None = None,
    max_iter: int = 1000,
    tol: float = 1e-6,
    device: str | torch.device = "auto",
    seed: int | None = None,
    progress: bool = True,
    resume: TrainingState | None = None,
    on_epoch_end: Callable[[TrainingState], None] | None = None,
    engine: str = "pvae",
    devices: int | str = 1,
    num_nodes: int = 1,
    strategy: str = "auto",
    precision: str | None = None,
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
        The default is 1000 steps.
    batch_size : int, optional
        Minibatch size for SVI; ``None`` uses all the data in every step. Minibatches are
        taken by index from the data held on the device, and the ELBO is scaled to N.
    lr, lr_decay : float
        The learning rate, decayed geometrically to ``lr * lr_decay`` by the last step.
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
        :attr:`FitResult.validation_losses`.
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
        Called with a :class:`~pvae.infer.state.TrainingState` after every epoch of SVI
        (after the validation score), e.g. to write a checkpoint.
    engine : {"pvae", "lightning"}
        ``"pvae"`` runs the loop here, on one device. ``"lightning"`` hands SVI to PyTorch
        Lightning (:mod:`pvae.lightning`, needs the ``lightning`` extra) for several devices
        or machines; the pair, the objective and these settings stay the same.
    devices, num_nodes, strategy, precision
        Lightning's ``Trainer`` settings (``engine="lightning"`` only): devices per machine,
        machines, e.g. ``strategy="ddp"``, and e.g. ``precision="bf16-mixed"`` (default: the
        data's dtype). Under DDP ``batch_size`` is per process.

    Returns
    -------
    FitResult
        The loss history (nats per datapoint) of the kept run and what it took.
    """
    for hook in ("model", "guide"):
        if not callable(getattr(pair, hook, None)):
            raise TypeError(f"pvae.fit needs a pair with a callable .{hook}; "
                            f"got {type(pair).__name__}")
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
    if engine == "pvae" and (devices != 1 or num_nodes != 1 or strategy != "auto"
                             or precision is not None):
        raise ValueError("devices, num_nodes, strategy and precision are Lightning's settings:"
                         " pass engine='lightning' to use them")
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    n_init = check_positive_int(n_init, "n_init")
    if resume is not None:
        if method != "svi" or n_init != 1:
            raise ValueError("resume continues a single SVI run: it needs method='svi' and "
                             f"n_init=1; got method={method!r}, n_init={n_init}")
        reinitialize = False  # the parameters are the checkpoint's
    initialize = getattr(pair, "initialize", None) if reinitialize else None
    if n_init > 1 and not callable(initialize):
        raise ValueError(f"n_init={n_init} needs a pair with initialize(x, generator) and "
                         f"reinitialize=True; {type(pair).__name__} has none or it is off")
    if batch_size is not None:
        batch_size = check_positive_int(batch_size, "batch_size")
    if lr <= 0 or not 0 < lr_decay <= 1:
        raise ValueError(f"need lr > 0 and 0 < lr_decay <= 1; got lr={lr}, lr_decay={lr_decay}")
    make_optimizer = optimizer_factory(optimizer, lr)

    if isinstance(kl_warmup, bool) or not isinstance(kl_warmup, int) or kl_warmup < 0:
        raise ValueError(f"kl_warmup must be a non-negative number of steps; got {kl_warmup!r}")
    x = _checked(pair, data, transform, "data")
    x_validation = None if validation is None else _checked(pair, validation, transform,
                                                            "validation data")
    target = resolve_device(device)
    if isinstance(pair, torch.nn.Module):
        pair.to(device=target, dtype=x.dtype)
    x = x.to(target)
    if x_validation is not None:
        x_validation = x_validation.to(device=target, dtype=x.dtype)
    n = x.shape[0]
    if seed is not None and resume is None:
        pyro.set_rng_seed(seed)
    base_seed = seed if seed is not None else int(torch.randint(2**31 - 1, (1,)))
    objective = pair.objective() if callable(getattr(pair, "objective", None)) else Trace_ELBO()
    if is_compiled(objective) and kl_warmup:
        raise ValueError("a compiled objective (jit=True) cannot follow a KL warm-up: its KL "
                         "weight is fixed when it compiles. Drop jit or kl_warmup.")
    per_epoch = batches_per_epoch(n, batch_size, objective)
    total = _svi_steps(steps, epochs, per_epoch) if method == "svi" else max_iter

    if engine == "lightning":
        unsupported = {"method='em'": method != "svi", "n_init > 1": n_init > 1,
                       "resume": resume is not None, "on_epoch_end": on_epoch_end is not None,
                       "time_limit": time_limit is not None}
        named = [name for name, used in unsupported.items() if used]
        if named:
            raise ValueError(f"engine='lightning' does not take {', '.join(named)}; use "
                             "engine='pvae' (Lightning checkpoints resume with pvae train "
                             "--engine lightning --resume)")
        from ..lightning import fit_with_lightning  # optional: only this path needs it

        if callable(initialize):
            initialize(x, torch.Generator().manual_seed(base_seed))
        return fit_with_lightning(
            pair, x.cpu(), epochs=epochs, total_steps=None if epochs is not None else total,
            batch_size=batch_size, lr=lr, lr_decay=lr_decay, make_optimizer=make_optimizer,
            transform=transform, validation=None if x_validation is None else x_validation.cpu(),
            kl_warmup=kl_warmup, seed=seed, devices=devices, num_nodes=num_nodes,
            strategy=strategy, precision=precision, accelerator=accelerator_for(device),
            progress=progress).result

    started = time.perf_counter()
    best: tuple[float, list[float], bool | None, dict[str, Any] | None, list[float]] | None = None
    restart_losses: list[float] = []
    show = progress and sys.stderr.isatty()
    for restart in range(n_init):
        if callable(initialize):
            initialize(x, torch.Generator().manual_seed(base_seed + restart))
        label = f"{method} fit" + (f" {restart + 1}/{n_init}" if n_init > 1 else "")
        with tqdm(total=total, desc=label, unit="step", disable=not show, leave=False) as bar:
            converged: bool | None = None
            validation_losses: list[float] = []
            if method == "em":
                losses, converged = run_em(pair, x, max_iter=max_iter, tol=tol, bar=bar)
            else:
                losses, validation_losses = run_svi(
                    pair, x, bar, objective, total=total, batch_size=batch_size, lr=lr,
                    lr_decay=lr_decay, make_optimizer=make_optimizer, transform=transform,
                    kl_warmup=kl_warmup, validation=x_validation, time_limit=time_limit,
                    resume=resume, on_epoch_end=on_epoch_end)
        scorer = getattr(pair, "log_likelihood", None)
        if n_init > 1 and callable(scorer):  # compare restarts at their final parameters
            score = -float(scorer(x).mean())
        else:
            score = losses[-1]
        restart_losses.append(score)
        if best is None or score < best[0]:
            state = copy.deepcopy(pair.state_dict()) if n_init > 1 else None
            best = (score, losses, converged, state, validation_losses)
    assert best is not None
    if best[3] is not None:
        pair.load_state_dict(best[3])
    return FitResult(losses=best[1], method=method, num_data=n, converged=best[2],
                     seconds=time.perf_counter() - started, device=str(target),
                     restart_losses=restart_losses, validation_losses=best[4])
