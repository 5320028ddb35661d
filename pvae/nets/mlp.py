"""A multilayer perceptron."""

from __future__ import annotations

import math
from collections.abc import Sequence

from torch import nn

from .base import Network, Reshape, networks
from .base import activation as activation_layer

__all__ = ["MLP"]


@networks.register("mlp")
class MLP(Network):
    """Fully connected layers with an activation between them.

    Parameters
    ----------
    hidden : sequence of int
        Widths of the hidden layers, e.g. ``(400,)`` or ``(512, 256)``.
    activation : str
        One of :data:`pvae.nets.ACTIVATIONS`.
    """

    def __init__(self, hidden: Sequence[int] = (400,), activation: str = "relu") -> None:
        if any(not isinstance(h, int) or h < 1 for h in hidden):
            raise ValueError(f"hidden sizes must be positive integers; got {list(hidden)}")
        activation_layer(activation)  # an unknown name fails here, not at build time
        self.hidden = tuple(hidden)
        self.activation = activation

    def build(self, in_shape: tuple[int, ...], out_shape: tuple[int, ...]) -> nn.Module:  # noqa: D102
        widths = [math.prod(in_shape), *self.hidden, math.prod(out_shape)]
        layers: list[nn.Module] = [Reshape(in_shape, (widths[0],))]
        for i, (a, b) in enumerate(zip(widths[:-1], widths[1:], strict=True)):
            layers.append(nn.Linear(a, b))
            if i < len(widths) - 2:
                layers.append(activation_layer(self.activation))
        layers.append(Reshape((widths[-1],), out_shape))
        return nn.Sequential(*layers)
