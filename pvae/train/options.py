"""``pvae.fit``'s settings, declared once: :class:`FitOptions`, with defaults and checks.

:func:`pvae.fit`'s keywords are its fields (a test pins the signature to them), a config's
``[train]`` table is checked by building one, and :data:`DEFAULTS` is the one set of defaults.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

import torch

from ..validation import (
    check_bool,
    check_nonnegative_int,
    check_nonnegative_number,
    check_positive_int,
    check_positive_number,
    check_seed,
)
from .engines import Engine, engines
from .state import TrainingState
from .step import check_optimizer

__all__ = ["DEFAULTS", "DEFAULT_STEPS", "METHODS", "OPTION_NAMES", "FitOptions", "resolve_device"]

METHODS = ("svi", "em")
DEVICE_TYPES = ("cpu", "cuda")
#: more optimiser steps, EM iterations or restarts than any run needs: a typo, refused
MAX_STEPS = 10**8
MAX_RESTARTS = 1000
#: optimiser steps when neither ``steps`` nor ``epochs`` is given
DEFAULT_STEPS = 1000


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


def _callable_or_none(value: Any, name: str, what: str) -> Any:
    if value is not None and not callable(value):
        raise ValueError(f"{name} must be {what} or None; got {type(value).__name__}")
    return value


Transform = Callable[[torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class FitOptions:
    """Every keyword of :func:`pvae.fit`, its default and its check, written once.

    Building one checks every setting (types, ranges, NaN, names) and normalises it, so a
    bad setting fails here, before any work, with a ``ValueError`` (or the registry's
    ``UnknownNameError``) that names it. The data-shaped settings (``validation``,
    ``terms_on``) are checked against the pair by :func:`pvae.fit`. Each field means what
    ``fit``'s docstring says; ``steps=None`` and ``epochs=None`` train for
    :data:`DEFAULT_STEPS` steps.
    """

    method: str = "svi"
    steps: int | None = None
    epochs: int | None = None
    batch_size: int | None = None
    lr: float = 0.01
    lr_decay: float = 1.0
    optimizer: str | Callable[..., torch.optim.Optimizer] = "adam"
    n_init: int = 1
    reinitialize: bool = True
    transform: Transform | None = None
    validation: Any = None
    terms_on: Any = None
    kl_warmup: int = 0
    patience: int | None = None
    time_limit: float | None = None
    max_iter: int = 1000
    tol: float = 1e-6
    device: str | torch.device = "auto"
    seed: int | None = None
    progress: bool = True
    resume: TrainingState | None = None
    on_epoch_end: Callable[[TrainingState], None] | None = None
    engine: str | dict[str, Any] | Engine = "pvae"

    def __post_init__(self) -> None:
        for name, value in _checked(self).items():
            object.__setattr__(self, name, value)
        _refuse_what_does_not_apply(self)

    @property
    def target_device(self) -> torch.device:
        """The device the fit runs on (``"auto"`` resolved)."""
        return resolve_device(self.device)


def _checked(options: FitOptions) -> dict[str, Any]:
    """The settings of ``options`` checked and normalised (the fields that change)."""
    if options.method not in METHODS:
        raise ValueError(f"unknown method {options.method!r}; choose one of "
                         f"{', '.join(METHODS)}")
    if options.steps is not None and options.epochs is not None:
        raise ValueError("give either steps or epochs, not both")
    check_optimizer(options.optimizer)
    if options.resume is not None and not isinstance(options.resume, TrainingState):
        raise ValueError(f"resume must be a TrainingState (what on_epoch_end received); got "
                         f"{type(options.resume).__name__}")
    if not isinstance(options.engine, Engine):
        engines.resolve(options.engine)  # the name, the keys and the engine's own checks
    resolve_device(options.device)
    checked = {
        "steps": _optional(options.steps, check_positive_int, "steps"),
        "epochs": _optional(options.epochs, check_positive_int, "epochs"),
        "batch_size": _optional(options.batch_size, check_positive_int, "batch_size"),
        "lr": check_positive_number(options.lr, "lr"),
        "lr_decay": check_positive_number(options.lr_decay, "lr_decay", at_most=1.0),
        "n_init": check_positive_int(options.n_init, "n_init"),
        "reinitialize": check_bool(options.reinitialize, "reinitialize"),
        "transform": _callable_or_none(options.transform, "transform",
                                       "a function of a minibatch"),
        "kl_warmup": check_nonnegative_int(options.kl_warmup, "kl_warmup"),
        "patience": _optional(options.patience, check_positive_int, "patience"),
        "time_limit": _optional(options.time_limit, check_positive_number, "time_limit"),
        "max_iter": check_positive_int(options.max_iter, "max_iter"),
        "tol": check_nonnegative_number(options.tol, "tol"),
        "seed": check_seed(options.seed),
        "progress": check_bool(options.progress, "progress"),
        "on_epoch_end": _callable_or_none(options.on_epoch_end, "on_epoch_end", "a callable"),
    }
    for name, limit in (("steps", MAX_STEPS), ("epochs", MAX_STEPS), ("max_iter", MAX_STEPS),
                        ("patience", MAX_STEPS),
                        ("n_init", MAX_RESTARTS)):
        if checked[name] is not None and checked[name] > limit:
            raise ValueError(f"{name}={checked[name]} is more than any run needs (at most "
                             f"{limit}); did you mean a smaller number?")
    return checked


#: the settings each method reads; any other one set away from its default is refused
APPLIES_TO = {  # and resume, which fit checks
    "svi": ("steps", "epochs", "batch_size", "lr", "lr_decay", "optimizer", "transform",
            "validation", "terms_on", "kl_warmup", "patience", "on_epoch_end"),
    "em": ("max_iter",),
}


def _refuse_what_does_not_apply(options: FitOptions) -> None:
    """A setting the chosen method never reads is an error, not a silent no-op."""
    other = "em" if options.method == "svi" else "svi"
    ignored = [name for name in APPLIES_TO[other] if _is_set(options, name)]
    if ignored:
        raise ValueError(f"method={options.method!r} does not use {', '.join(ignored)} (only "
                         f"method={other!r} does); leave {'them' if len(ignored) > 1 else 'it'} "
                         "out")


def _is_set(options: FitOptions, name: str) -> bool:
    """Whether setting ``name`` differs from its declared default."""
    value, default = getattr(options, name), FitOptions.__dataclass_fields__[name].default
    return value is not None if default is None else bool(value != default)

#: the defaults of every training entry point: :func:`pvae.fit`, either engine, a config
DEFAULTS = FitOptions()

#: the names of :func:`pvae.fit`'s settings, in its signature's order
OPTION_NAMES = tuple(option.name for option in fields(FitOptions))

