"""Images side by side: inputs and reconstructions, prior samples, interpolations."""

from __future__ import annotations

import math
from collections.abc import Mapping

import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..validation import as_data, check_positive_int

__all__ = ["image_rows", "image_shape_of", "interpolations", "reconstructions", "samples"]


def image_shape_of(x_shape: tuple[int, ...]) -> tuple[int, int]:
    """The (height, width) to draw rows of ``x_shape``: square images or (C, H, W)."""
    if len(x_shape) >= 2:
        return int(x_shape[-2]), int(x_shape[-1])
    side = math.isqrt(int(x_shape[0]))
    if side * side != x_shape[0]:
        raise ValueError(f"cannot draw rows of {x_shape[0]} values as square images; pass "
                         "image_shape=(height, width)")
    return side, side


def _show(axes: Axes, image: torch.Tensor, shape: tuple[int, int]) -> None:
    axes.imshow(image.detach().cpu().reshape(shape).numpy(), cmap="gray_r", vmin=0, vmax=1)
    axes.set_xticks([])
    axes.set_yticks([])


def _images(images: torch.Tensor, name: str) -> torch.Tensor:
    """Rows of images to draw: at least one, each with more than one value, finite."""
    return as_data(images, event_dims=(1, 2, 3), name=name)


def _grid(rows: Mapping[str, torch.Tensor], shape: tuple[int, int], title: str,
          size: float = 0.9) -> Figure:
    columns = max(len(images) for images in rows.values())
    figure = Figure(figsize=(size * columns + 1.2, size * len(rows) + 0.5),
                    layout="constrained")
    grid = figure.subplots(len(rows), columns, squeeze=False)
    for row, (label, images) in zip(grid, rows.items(), strict=True):
        for column, axes in enumerate(row):
            if column < len(images):
                _show(axes, images[column], shape)
            else:
                axes.set_visible(False)
        row[0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize="small")
    figure.suptitle(title)
    return figure


def reconstructions(inputs: torch.Tensor, outputs: torch.Tensor, *,
                    image_shape: tuple[int, int] | None = None,
                    title: str = "Inputs and their reconstructions") -> Figure:
    r"""Inputs (top row) above their reconstructions :math:`\mathbb{E}[x \mid z=\mu(x)]`."""
    inputs, outputs = _images(inputs, "inputs"), _images(outputs, "reconstructions")
    if inputs.shape != outputs.shape:
        raise ValueError(f"got {len(inputs)} inputs but {len(outputs)} reconstructions (shapes "
                         f"{tuple(inputs.shape)} and {tuple(outputs.shape)})")
    shape = image_shape or image_shape_of(tuple(inputs.shape[1:]))
    return _grid({"input": inputs, "reconstruction": outputs}, shape, title)


def samples(images: torch.Tensor, *, columns: int = 8,
            image_shape: tuple[int, int] | None = None,
            title: str = r"Samples: $\mathbb{E}[x \mid z]$, $z \sim p(z)$") -> Figure:
    """A grid of images decoded from codes drawn from the prior."""
    images = _images(images, "samples")
    columns = check_positive_int(columns, "columns")
    shape = image_shape or image_shape_of(tuple(images.shape[1:]))
    rows = {f"{start + 1}-{min(start + columns, len(images))}": images[start:start + columns]
            for start in range(0, len(images), columns)}
    figure = _grid(rows, shape, title)
    for axes in figure.axes:
        axes.set_ylabel("")
    return figure


def image_rows(rows: Mapping[str, torch.Tensor], *, title: str,
               image_shape: tuple[int, int] | None = None) -> Figure:
    """One labelled row of images per entry, e.g. each model's samples above another's."""
    if not rows:
        raise ValueError("image_rows needs at least one row of images")
    rows = {label: _images(images, f"the row {label!r}") for label, images in rows.items()}
    first = next(iter(rows.values()))
    shape = image_shape or image_shape_of(tuple(first.shape[1:]))
    return _grid(dict(rows), shape, title)


def interpolations(paths: Mapping[str, torch.Tensor], *,
                   image_shape: tuple[int, int] | None = None,
                   title: str = "Interpolating between two inputs through the latent space"
                   ) -> Figure:
    """One row per model: decodings along the straight line between two inputs' codes."""
    if not paths:
        raise ValueError("interpolations needs at least one model's path")
    return image_rows(paths, title=title, image_shape=image_shape)
