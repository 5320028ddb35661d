"""What pvae models share about their parameters: a unique name, an in-place update."""

from __future__ import annotations

import itertools

import torch

from .._compat import pyro_declarations

__all__ = ["instance_name", "set_constrained"]

_counter = itertools.count()


def instance_name(kind: str) -> str:
    """A name no other model has, such as ``"Gaussian_3"``.

    Pyro's global param store keys a ``PyroModule``'s parameters by the module's name. Two
    models with the same name would silently share parameters (the second would start
    where the first stopped), so every pvae model gets a name of its own.
    """
    return f"{kind}_{next(_counter)}"


def set_constrained(module: torch.nn.Module, name: str, value: torch.Tensor) -> None:
    """Overwrite the ``PyroParam`` ``name`` of ``module`` in place with a constrained value.

    The unconstrained tensor keeps its identity, so an optimiser or Pyro's param store
    that holds it sees the new value.
    """
    constraint = pyro_declarations(module)[0][name][0]
    unconstrained = getattr(module, f"{name}_unconstrained")
    with torch.no_grad():
        unconstrained.copy_(torch.distributions.transform_to(constraint).inv(value))
