r"""How blurry are samples? High-frequency energy, against the data's own.

A VAE's mean image :math:`E[x \mid z]` averages every image a code could stand for, and the
average of several digits is a grey smear: it keeps the low frequencies and loses the edges.
The discrete Laplacian

.. math:: (\Delta x)_{ij} = x_{i-1,j} + x_{i+1,j} + x_{i,j-1} + x_{i,j+1} - 4 x_{ij}

responds to edges only, so its mean square over an image's inner pixels measures what blur
removes. :func:`sharpness` reports it for samples and for real data, and their ratio: about 1
for images as sharp as the data, well below 1 for blurred ones (the digits, each pixel
averaged with its four neighbours, read 0.13). Uniform noise reads above 1 (1.6 on the
digits): sharp is not the same as real, which is why :func:`~pvae.estimate.fidelity.fidelity`
sits beside it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch

from ..results import summarised
from ..validation import DataError, as_data
from .novelty import is_sampler

__all__ = ["Sharpness", "laplacian_energy", "sharpness"]


def laplacian_energy(images: torch.Tensor) -> torch.Tensor:
    """Each image's mean squared discrete Laplacian over its inner pixels, ``(N,)``.

    ``images`` is ``(N, H, W)`` (or ``(N, C, H, W)``, channels averaged), with ``H, W >= 3``.
    """
    x = images.double()
    if x.dim() == 4:
        x = x.mean(1)
    inner = (x[:, :-2, 1:-1] + x[:, 2:, 1:-1] + x[:, 1:-1, :-2] + x[:, 1:-1, 2:]
             - 4 * x[:, 1:-1, 1:-1])
    return inner.pow(2).mean((1, 2))


@summarised()
@dataclass(frozen=True)
class Sharpness:
    """High-frequency energy of samples and of data (mean squared Laplacian per pixel).

    Attributes
    ----------
    samples, samples_stderr : float
        The samples' mean energy and its standard error over images.
    data, data_stderr : float
        The same for real images.
    """

    samples: float
    samples_stderr: float
    data: float
    data_stderr: float

    @property
    def ratio(self) -> float:
        """Samples' energy over the data's: about 1 as sharp as the data, below 1 blurred."""
        return self.samples / self.data

    def __str__(self) -> str:
        return (f"sharpness {self.ratio:.3f} of the data's (Laplacian energy "
                f"{self.samples:.4f} ± {self.samples_stderr:.4f} against "
                f"{self.data:.4f} ± {self.data_stderr:.4f})")


def _images(name: str, value: Any, shape: tuple[int, ...]) -> torch.Tensor:
    tensor = as_data(value, name=name, event_dims=(0, 1, 2, 3))
    if math.prod(tensor.shape[1:]) != math.prod(shape):
        raise DataError(f"{name} hold points of {math.prod(tensor.shape[1:])} values, not "
                        f"images of {'x'.join(map(str, shape))}")
    return tensor.reshape(len(tensor), *shape)


def sharpness(samples: Any, data: Any, image_shape: tuple[int, ...]) -> Sharpness:
    """The samples' high-frequency energy against the data's (see the module).

    ``image_shape`` is one image's ``(H, W)`` or ``(C, H, W)``, e.g. ``(8, 8)`` for the
    digits; flat rows are reshaped to it.
    """
    shape = tuple(image_shape) if isinstance(image_shape, tuple | list) else ()
    if len(shape) not in (2, 3) or not all(isinstance(side, int) and not isinstance(
            side, bool) for side in shape) or min(shape[-2:]) < 3 or min(shape) < 1:
        raise ValueError(f"image_shape must be (H, W) or (C, H, W) of integers, with H, W >= 3; "
                         f"got {image_shape!r}")
    if is_sampler(samples):
        raise TypeError("sharpness compares images: pass samples (model.sample(n), or "
                        "model.sample(n, mean=False) for draws), not the model")
    summaries = []
    for name, value in (("samples", samples), ("data", data)):
        energy = laplacian_energy(_images(name, value, shape))
        spread = float(energy.std()) / math.sqrt(len(energy)) if len(energy) > 1 else math.inf
        summaries += [float(energy.mean()), spread]
    if summaries[2] == 0:
        raise DataError("the data have no edges at all (constant images): nothing to compare "
                        "the samples' sharpness with")
    return Sharpness(*summaries)
