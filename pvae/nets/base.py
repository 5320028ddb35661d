"""A network recipe: a name and options now, a module once the shapes are known."""

from __future__ import annotations

import math

import torch
from pyro.nn.module import to_pyro_module_
from torch import nn

from ..registry import Registry

__all__ = ["ACTIVATIONS", "Network", "Reshape", "activation", "networks", "pyro_visible"]

ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "elu": nn.ELU,
    "gelu": nn.GELU,
    "leaky_relu": nn.LeakyReLU,
    "softplus": nn.Softplus,
    "tanh": nn.Tanh,
}


def activation(name: str) -> nn.Module:
    """A fresh activation layer by name; an unknown name lists the known ones."""
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; known: {', '.join(ACTIVATIONS)}")
    return ACTIVATIONS[name]()


class Network:
    """Base class of network recipes: ``build(in_shape, out_shape)`` returns the module.

    A built module maps a tensor of shape ``(*batch, *in_shape)`` to
    ``(*batch, *out_shape)`` for any number of leading batch dimensions (minibatch,
    importance samples, ...).
    """

    def build(self, in_shape: tuple[int, ...], out_shape: tuple[int, ...]) -> nn.Module:
        """The module for these shapes."""
        raise NotImplementedError


networks = Registry("network", Network)


class Reshape(nn.Module):
    """Reshape the trailing ``from_shape`` dimensions to ``to_shape``, keeping batch dims."""

    def __init__(self, from_shape: tuple[int, ...], to_shape: tuple[int, ...]) -> None:
        super().__init__()
        self.from_dims = len(from_shape)
        self.to_shape = to_shape
        if math.prod(from_shape) != math.prod(to_shape):
            raise ValueError(f"cannot reshape {from_shape} to {to_shape}")

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # noqa: D102
        cut = x.dim() - self.from_dims
        if x.shape[cut:] == self.to_shape:  # (784,) to (784,): no op, no autograd node
            return x
        return x.reshape(*x.shape[:cut], *self.to_shape)


def pyro_visible(net: nn.Module) -> nn.Module:
    """Make ``net``'s parameters visible to Pyro, in place, and return ``net``.

    The modules holding parameters, and the containers above them, become ``PyroModule``
    s. A ``PyroModule`` announces each parameter it reads with ``pyro.param``, under the name
    of its chain of modules, which is how SVI finds the parameters and the param store
    names them. A module without parameters (an activation, a reshape) has nothing to
    announce, but every ``PyroModule`` call pays for its context; those stay plain torch
    modules. The names are those of ``pyro.nn.module.to_pyro_module_``.
    """
    if next(net.parameters(), None) is None:
        return net
    to_pyro_module_(net, recurse=False)
    # each child under each of its names (named_children names a shared child once), listed
    # before the loop re-registers them
    children = [(name, child) for name, child in net.named_modules(remove_duplicate=False)
                if name and "." not in name]
    for name, child in children:
        pyro_visible(child)
        # PyroModule re-registers a PyroModule child at the end of the order; moving every
        # child the same way keeps a Sequential's order
        delattr(net, name)
        setattr(net, name, child)
    return net
