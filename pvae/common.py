"""What pvae models share: a data plate, unique names, in-place updates, signatures."""

from __future__ import annotations

import contextlib
import functools
import inspect
import itertools
from collections.abc import Callable
from typing import Any

import pyro
import torch
from pyro import poutine

__all__ = ["data_plate", "instance_name", "kl_scale", "set_constrained", "signature_of"]

_counter = itertools.count()


def instance_name(kind: str) -> str:
    """A name no other model has, such as ``"Gaussian_3"``.

    Pyro's global param store keys a ``PyroModule``'s parameters by the module's name. Two
    models with the same name would silently share parameters (the second would start
    where the first stopped), so every pvae model gets a name of its own.
    """
    return f"{kind}_{next(_counter)}"


def data_plate(x: torch.Tensor, num_data: int | None = None) -> pyro.plate:
    """A ``pyro.plate("data")`` over the rows of ``x``.

    When ``x`` is a minibatch of a larger data set, pass ``num_data`` (the full size N):
    every log-density inside the plate is then scaled by ``N / len(x)``, so the ELBO of a
    minibatch is an unbiased estimate of the ELBO of the whole data set.
    """
    batch = x.shape[0]
    if num_data is None or num_data == batch:
        return pyro.plate("data", batch)
    return pyro.plate("data", num_data, subsample=_rows(batch, x.device))


def kl_scale(weight: float) -> contextlib.AbstractContextManager[Any]:
    """Scale the log-densities of the latent site(s) inside by ``weight`` (the KL weight).

    At weight 1 there is nothing to scale, and no handler is pushed: one fewer per step.
    """
    return contextlib.nullcontext() if weight == 1 else poutine.scale(scale=weight)


@functools.lru_cache(maxsize=16)
def _rows(batch: int, device: torch.device) -> torch.Tensor:
    """``arange(batch)`` on ``device``, made once per batch size and not on every step.

    Made outside inference mode, so that a first call from a no-gradient loop (Lightning's
    validation) leaves an ordinary tensor for the training steps after it.
    """
    with torch.inference_mode(False):
        return torch.arange(batch, device=device)


def set_constrained(module: torch.nn.Module, name: str, value: torch.Tensor) -> None:
    """Overwrite the ``PyroParam`` ``name`` of ``module`` in place with a constrained value.

    The unconstrained tensor keeps its identity, so an optimiser or Pyro's param store
    that holds it sees the new value.
    """
    constraint = module._pyro_params[name][0]  # type: ignore[index]
    unconstrained = getattr(module, f"{name}_unconstrained")
    with torch.no_grad():
        unconstrained.copy_(torch.distributions.transform_to(constraint).inv(value))


@functools.lru_cache(maxsize=256)
def _signature(fn: Callable[..., Any]) -> inspect.Signature:
    return inspect.signature(fn)


def signature_of(fn: Callable[..., Any]) -> inspect.Signature:
    """``inspect.signature(fn)``, worked out once per function rather than on every fit.

    A bound method's signature is its function's without ``self``, so every instance of a
    class shares one entry. Raises what ``inspect.signature`` raises.
    """
    function, owner = getattr(fn, "__func__", None), getattr(fn, "__self__", None)
    if function is not None and owner is not None and not inspect.isclass(owner):
        parameters = list(_signature(function).parameters.values())[1:]
        return _signature(function).replace(parameters=parameters)
    try:
        return _signature(fn)
    except TypeError as error:  # unhashable callables are rare: look them up each time
        if "unhashable" not in str(error):
            raise
        return inspect.signature(fn)
