"""A small convolutional encoder/decoder pair for 28x28 single-channel images."""

from __future__ import annotations

import math

import torch
from torch import nn

from .base import Network, Reshape, activation, networks

__all__ = ["Conv", "FlatBatch"]

IMAGE = (1, 28, 28)


class FlatBatch(nn.Module):
    """Run ``inner`` (which takes one batch dimension) on any number of batch dimensions."""

    def __init__(self, in_shape: tuple[int, ...], out_shape: tuple[int, ...],
                 inner: nn.Module) -> None:
        super().__init__()
        self.in_shape, self.out_shape, self.inner = in_shape, out_shape, inner

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # noqa: D102
        batch = x.shape[: x.dim() - len(self.in_shape)]
        out = self.inner(x.reshape(-1, *self.in_shape))
        return out.reshape(*batch, *self.out_shape)


@networks.register("conv")
class Conv(Network):
    """Two stride-2 convolutions (28 -> 14 -> 7) and a linear layer; or the mirror image.

    Built as an encoder when the input is a 28x28 image (784 values in any shape) and as a
    decoder when the output is.

    Parameters
    ----------
    channels : tuple of int
        Channels after the first and second convolution.
    activation : str
        One of :data:`pvae.nets.ACTIVATIONS`.
    """

    def __init__(self, channels: tuple[int, int] = (32, 64), activation: str = "relu") -> None:
        self.channels = tuple(channels)
        self.activation = activation
        if len(self.channels) != 2:
            raise ValueError(f"channels must be two numbers; got {channels}")

    def build(self, in_shape: tuple[int, ...], out_shape: tuple[int, ...]) -> nn.Module:  # noqa: D102
        c1, c2 = self.channels
        if math.prod(in_shape) == math.prod(IMAGE):
            return FlatBatch(in_shape, out_shape, nn.Sequential(
                Reshape(in_shape, IMAGE),
                nn.Conv2d(1, c1, 4, 2, 1), activation(self.activation),
                nn.Conv2d(c1, c2, 4, 2, 1), activation(self.activation),
                Reshape((c2, 7, 7), (c2 * 49,)),
                nn.Linear(c2 * 49, math.prod(out_shape)),
                Reshape((math.prod(out_shape),), out_shape),
            ))
        if math.prod(out_shape) == math.prod(IMAGE):
            return FlatBatch(in_shape, out_shape, nn.Sequential(
                Reshape(in_shape, (math.prod(in_shape),)),
                nn.Linear(math.prod(in_shape), c2 * 49), activation(self.activation),
                Reshape((c2 * 49,), (c2, 7, 7)),
                nn.ConvTranspose2d(c2, c1, 4, 2, 1), activation(self.activation),
                nn.ConvTranspose2d(c1, 1, 4, 2, 1),
                Reshape(IMAGE, out_shape),
            ))
        raise ValueError(
            f"the conv network is for 28x28 images; neither {in_shape} nor {out_shape} has "
            "784 values. Use the 'mlp' network for other data."
        )
