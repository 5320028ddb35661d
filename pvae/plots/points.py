"""Rows that are not images, drawn against the data: a scatter, pair plots or histograms.

:func:`against_data` picks what fits the rows' width: a scatter for 2 features, a grid of
pair plots for up to :data:`MAX_PAIRS` features, one histogram per feature beyond.
:func:`as_images` says whether rows are images (a given shape, or square rows of at least
:data:`MIN_SIDE` pixels a side, as the digits and MNIST are).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure

__all__ = ["MAX_PAIRS", "MIN_SIDE", "against_data", "as_images", "check_image_shape"]

#: the most features drawn as pair plots; more get one histogram each
MAX_PAIRS = 6
#: the smallest side of square rows taken for images without an ``image_shape``
MIN_SIDE = 4
#: the most histograms one figure draws
MAX_HISTOGRAMS = 36


def check_image_shape(shape: object, width: int | None = None) -> tuple[int, int]:
    """``[height, width]`` as a tuple of two positive ints, whose product is ``width``."""
    if not (isinstance(shape, Sequence) and not isinstance(shape, str) and len(shape) == 2
            and all(isinstance(side, int) and not isinstance(side, bool) and side > 0
                    for side in shape)):
        raise ValueError(f"image_shape is [height, width], two positive integers; got "
                         f"{shape!r}")
    height, across = int(shape[0]), int(shape[1])
    if width is not None and height * across != width:
        raise ValueError(f"image_shape = [{height}, {across}] holds {height * across} values, "
                         f"but each row of the data has {width}")
    return height, across


def as_images(width: int, image_shape: object = None) -> tuple[int, int] | None:
    """The (height, width) to draw rows of ``width`` values as images, or ``None``."""
    if image_shape is not None:
        return check_image_shape(image_shape, width)
    side = math.isqrt(width)
    return (side, side) if side >= MIN_SIDE and side * side == width else None


def _rows(values: torch.Tensor) -> torch.Tensor:
    return values.detach().cpu().double().reshape(len(values), -1)


def against_data(drawn: torch.Tensor, data: torch.Tensor, *, title: str,
                 label: str = "model") -> Figure:
    """``drawn`` rows (orange) over ``data`` rows (grey), in the form that fits their width."""
    drawn, data = _rows(drawn), _rows(data)
    if drawn.shape[1] != data.shape[1]:
        raise ValueError(f"rows of {drawn.shape[1]} values cannot be drawn against data rows "
                         f"of {data.shape[1]}")
    width = drawn.shape[1]
    if width == 1 or width > MAX_PAIRS:
        figure = _histograms(drawn, data, label)
    elif width == 2:
        figure = Figure(figsize=(5.4, 4.6), layout="constrained")
        axes = figure.subplots()
        _scatter(axes, data, drawn, 0, 1, label)
        axes.set_xlabel("x₁")
        axes.set_ylabel("x₂")
        axes.legend(loc="best", fontsize="small")
    else:
        figure = _pairs(drawn, data, label)
    figure.suptitle(title)
    return figure


def _scatter(axes: Axes, data: torch.Tensor, drawn: torch.Tensor, i: int, j: int,
             label: str) -> None:
    axes.scatter(data[:, i].numpy(), data[:, j].numpy(), s=5, c="0.6",
                 alpha=0.6, label="data")
    axes.scatter(drawn[:, i].numpy(), drawn[:, j].numpy(), s=5,
                 c="tab:orange", alpha=0.7, label=label)


def _pairs(drawn: torch.Tensor, data: torch.Tensor, label: str) -> Figure:
    width = drawn.shape[1]
    figure = Figure(figsize=(1.9 * width + 0.6, 1.9 * width + 0.6), layout="constrained")
    grid = figure.subplots(width, width, squeeze=False)
    for i in range(width):
        for j in range(width):
            axes = grid[i][j]
            if i == j:
                _histogram(axes, drawn[:, i], data[:, i], label)
            else:
                _scatter(axes, data, drawn, j, i, label)
            axes.tick_params(labelsize="x-small")
            if i == width - 1:
                axes.set_xlabel(f"x{j + 1}")
            if j == 0:
                axes.set_ylabel(f"x{i + 1}")
    grid[0][-1].legend(*grid[0][1].get_legend_handles_labels(), fontsize="x-small")
    return figure


def _histogram(axes: Axes, drawn: torch.Tensor, data: torch.Tensor, label: str) -> None:
    both = torch.cat([drawn, data])
    low, high = float(both.min()), float(both.max())
    bins = torch.linspace(low, high if high > low else low + 1, 31).tolist()
    axes.hist(data.numpy(), bins=bins, density=True, color="0.6",
              alpha=0.6, label="data")
    axes.hist(drawn.numpy(), bins=bins, density=True,
              histtype="step", color="tab:orange", label=label)
    axes.set_yticks([])


def _histograms(drawn: torch.Tensor, data: torch.Tensor, label: str) -> Figure:
    width = min(drawn.shape[1], MAX_HISTOGRAMS)
    columns = min(width, 6)
    lines = math.ceil(width / columns)
    figure = Figure(figsize=(1.9 * columns + 0.6, 1.6 * lines + 0.8), layout="constrained")
    grid = figure.subplots(lines, columns, squeeze=False)
    for index, axes in enumerate(grid.flat):
        if index >= width:
            axes.set_visible(False)
            continue
        _histogram(axes, drawn[:, index], data[:, index], label)
        axes.set_title(f"x{index + 1}", fontsize="small")
        axes.tick_params(labelsize="x-small")
    grid.flat[0].legend(fontsize="x-small")
    if drawn.shape[1] > width:
        figure.supxlabel(f"the first {width} of {drawn.shape[1]} features", fontsize="small")
    return figure
