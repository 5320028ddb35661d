"""The one check of ``pvae.fit``'s settings, before any work.

:func:`pvae.fit` and a config's ``[train]`` table both go through :func:`check_options`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from ..validation import (
    check_nonnegative_int,
    check_nonnegative_number,
    check_positive_int,
    check_positive_number,
    check_seed,
)
from .engines import Engine, engines
from .state import TrainingState
from .step import DEFAULTS, OPTIMIZERS

__all__ = ["METHODS", "check_options", "resolve_device"]

METHODS = ("svi", "em")
DEVICE_TYPES = ("cpu", "cuda")
#: more optimiser steps, EM iterations or restarts than any run needs: a typo, refused
MAX_STEPS = 10**8
MAX_RESTARTS = 1000


def resolve_device(device: str | torch.device) -> torch.device:
    """``"auto"`` picks CUDA when there is one and the CPU otherwise."""
    if isinstance(device, str) and device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device) if isinstance(device, str | torch.device) else None
    except (RuntimeError, TypeError):
        resolved = None
    if resolved is None or resolved.type not in DEVICE_TYPES:
        raise ValueError(f"unknown device {device!r}; use 'auto', 'cpu', 'cuda' or 'cuda:N'")
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} was asked for but CUDA is not available here; "
                         "use device='auto' or 'cpu'")
    return resolved


def _optional(value: Any, check: Callable[[Any, str], Any], name: str) -> Any:
    return None if value is None else check(value, name)


def _flag(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be True or False; got {value!r}")
    return value


def _callable_or_none(value: Any, name: str, what: str) -> Any:
    if value is not None and not callable(value):
        raise ValueError(f"{name} must be {what} or None; got {type(value).__name__}")
    return value


def check_options(*, method: str = "svi", steps: Any = None, epochs: Any = None,
                  batch_size: Any = None, lr: Any = DEFAULTS.lr,
                  lr_decay: Any = DEFAULTS.lr_decay, optimizer: Any = DEFAULTS.optimizer,
                  n_init: Any = 1, reinitialize: Any = True, transform: Any = None,
                  kl_warmup: Any = DEFAULTS.kl_warmup, time_limit: Any = None,
                  max_iter: Any = 1000, tol: Any = 1e-6, device: Any = "auto",
                  seed: Any = None, progress: Any = True, resume: Any = None,
                  on_epoch_end: Any = None, engine: Any = "pvae") -> dict[str, Any]:
    """Check ``fit``'s settings (types, ranges, NaN, names) and return them normalised.

    Raises ``ValueError`` (or the registry's ``UnknownNameError``) naming the setting.
    """
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    if steps is not None and epochs is not None:
        raise ValueError("give either steps or epochs, not both")
    if isinstance(optimizer, str):
        if optimizer not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer {optimizer!r}; choose one of "
                             f"{', '.join(OPTIMIZERS)} or pass a callable")
    else:
        _callable_or_none(optimizer, "optimizer", "a name or a callable params -> optimiser")
    if resume is not None and not isinstance(resume, TrainingState):
        raise ValueError(f"resume must be a TrainingState (what on_epoch_end received); got "
                         f"{type(resume).__name__}")
    if not isinstance(engine, Engine):
        engines.check(engine)
    checked = {
        "method": method,
        "steps": _optional(steps, check_positive_int, "steps"),
        "epochs": _optional(epochs, check_positive_int, "epochs"),
        "batch_size": _optional(batch_size, check_positive_int, "batch_size"),
        "lr": check_positive_number(lr, "lr"),
        "lr_decay": check_positive_number(lr_decay, "lr_decay", at_most=1.0),
        "optimizer": optimizer,
        "n_init": check_positive_int(n_init, "n_init"),
        "reinitialize": _flag(reinitialize, "reinitialize"),
        "transform": _callable_or_none(transform, "transform", "a function of a minibatch"),
        "kl_warmup": check_nonnegative_int(kl_warmup, "kl_warmup"),
        "time_limit": _optional(time_limit, check_positive_number, "time_limit"),
        "max_iter": check_positive_int(max_iter, "max_iter"),
        "tol": check_nonnegative_number(tol, "tol"),
        "device": resolve_device(device),
        "seed": check_seed(seed),
        "progress": _flag(progress, "progress"),
        "on_epoch_end": _callable_or_none(on_epoch_end, "on_epoch_end", "a callable"),
        "engine": engine,
    }
    for name, limit in (("steps", MAX_STEPS), ("epochs", MAX_STEPS), ("max_iter", MAX_STEPS),
                        ("n_init", MAX_RESTARTS)):
        if checked[name] is not None and checked[name] > limit:
            raise ValueError(f"{name}={checked[name]} is more than any run needs (at most "
                             f"{limit}); did you mean a smaller number?")
    return checked
