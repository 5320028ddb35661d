"""The latent space: codes coloured by label, and the decoded manifold of a 2-D latent."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from matplotlib.figure import Figure

from .images import image_shape_of

__all__ = ["latent_manifold", "latent_space"]


def latent_space(codes: torch.Tensor, labels: torch.Tensor | None = None, *,
                 title: str = r"The latent space: the mean of $q(z \mid x)$ per input"
                 ) -> Figure:
    """Scatter the codes, coloured by label; more than two dimensions are projected.

    With ``z_dim > 2`` the codes are projected onto their first two principal components
    (the axes say so); with 2 they are drawn as they are.
    """
    codes = codes.detach().cpu().double()
    if codes.dim() != 2 or codes.shape[1] < 1:
        raise ValueError(f"codes must be (N, z_dim); got {tuple(codes.shape)}")
    if codes.shape[1] == 1:
        points, names = torch.cat([codes, torch.zeros_like(codes)], 1), ("z₁", "")
    elif codes.shape[1] == 2:
        points, names = codes, ("z₁", "z₂")
    else:
        centred = codes - codes.mean(0)
        _, _, directions = torch.linalg.svd(centred, full_matrices=False)
        points, names = centred @ directions[:2].T, ("principal component 1 of z",
                                                     "principal component 2 of z")
    figure = Figure(figsize=(5.4, 4.6), layout="constrained")
    axes = figure.subplots()
    colours: dict[str, Any] = ({} if labels is None else
                               {"c": labels.detach().cpu().numpy(), "cmap": "tab10"})
    drawn = axes.scatter(points[:, 0].numpy(), points[:, 1].numpy(), s=6, alpha=0.8,
                         **colours)
    if labels is not None:
        figure.colorbar(drawn, ax=axes, label="label")
    axes.set_xlabel(names[0])
    axes.set_ylabel(names[1])
    axes.set_title(title, fontsize="medium")
    return figure


def latent_manifold(decode: Callable[[torch.Tensor], torch.Tensor], *, steps: int = 15,
                    span: float = 2.5, x_shape: tuple[int, ...] = (784,),
                    like: torch.Tensor | None = None,
                    title: str = "The decoded manifold of a 2-D latent space") -> Figure:
    r"""Decode a ``steps`` × ``steps`` grid of codes :math:`z \in [-span, span]^2`.

    ``decode`` maps codes ``(M, 2)`` to expected images (``vae.decode``); ``like`` (any
    tensor on the model's device and dtype) places the grid there.
    """
    anchor = like if like is not None else torch.zeros(())
    axis = torch.linspace(-span, span, steps, dtype=anchor.dtype, device=anchor.device)
    grid = torch.cartesian_prod(axis.flip(0), axis)[:, [1, 0]]  # rows from top to bottom
    with torch.no_grad():
        images = decode(grid).detach().cpu()
    height, width = image_shape_of(x_shape)
    tiles = images.reshape(steps, steps, height, width)
    # a blank pixel around every tile, or neighbouring digits read as one long stroke
    tiles = torch.nn.functional.pad(tiles, (1, 1, 1, 1)).permute(0, 2, 1, 3)
    mosaic = tiles.reshape(steps * (height + 2), steps * (width + 2))
    figure = Figure(figsize=(6, 6), layout="constrained")
    axes = figure.subplots()
    axes.imshow(mosaic.numpy(), cmap="gray_r", vmin=0, vmax=1,
                extent=(-span, span, -span, span), interpolation="nearest")
    axes.set_xlabel("z₁")
    axes.set_ylabel("z₂")
    axes.set_title(title, fontsize="medium")
    return figure
