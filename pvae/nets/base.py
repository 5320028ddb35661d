"""A network recipe: a name and options now, a module once the shapes are known."""

from __future__ import annotations

import math

import torch
from torch import nn

from ..registry import Registry

__all__ = ["ACTIVATIONS", "Network", "Reshape", "activation", "networks"]

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
        batch = x.shape[: x.dim() - self.from_dims]
        return x.reshape(*batch, *self.to_shape)
