"""Likelihood pictures: a Gaussian's likelihood surface and a mixture's density."""

from __future__ import annotations

from collections.abc import Callable

import torch
from matplotlib.figure import Figure

from ..validation import DataError, as_data, check_spread

__all__ = ["gaussian_likelihood", "mixture_density"]


def gaussian_likelihood(x: torch.Tensor, *, grid: int = 120) -> Figure:
    r"""Probability against likelihood for a Gaussian, side by side.

    Left: the log-likelihood :math:`\ell(\mu, \sigma) = \sum_i \log \mathcal{N}(x_i \mid
    \mu, \sigma)` as a function of the *parameters*, with the maximum (the sample mean and
    the 1/N standard deviation) marked. Right: the density over *x* at that maximum, over a
    histogram of the data: a probability distribution, which the surface on the left is not.
    """
    x = as_data(x, name="gaussian_likelihood's data").cpu().double().reshape(-1)
    if x.numel() < 2:
        raise DataError("gaussian_likelihood needs at least two observations")
    check_spread(x, "gaussian_likelihood's data")
    loc, scale = x.mean(), x.std(unbiased=False)
    n = x.numel()
    # Five standard errors either way: sigma / sqrt(N) for mu, sigma / sqrt(2N) for sigma.
    locs = torch.linspace(float(loc - 5 * scale / n**0.5), float(loc + 5 * scale / n**0.5),
                          grid, dtype=torch.float64)
    scales = torch.linspace(float(scale * (1 - 5 / (2 * n) ** 0.5)) if n > 50 else
                            float(0.3 * scale), float(scale * (1 + 5 / (2 * n) ** 0.5)), grid,
                            dtype=torch.float64)
    mu, sigma = torch.meshgrid(locs, scales, indexing="xy")
    surface = torch.distributions.Normal(mu[..., None], sigma[..., None]).log_prob(x).sum(-1)
    figure = Figure(figsize=(11, 4.2), layout="constrained")
    left, right = figure.subplots(1, 2)
    peak = float(surface.max())
    relative = (surface - peak).clamp(min=-20)
    contour = left.contourf(mu.numpy(), sigma.numpy(), relative.numpy(), levels=21,
                            cmap="viridis")
    # Drops of k^2 / 2 nats: the k-standard-error ellipses of the MLE.
    left.contour(mu.numpy(), sigma.numpy(), relative.numpy(),
                 levels=[-k * k / 2 for k in (4, 3, 2, 1)], colors="white", linewidths=0.7)
    figure.colorbar(contour, ax=left, label="log-likelihood − its maximum (nats)")
    left.plot([float(loc)], [float(scale)], "r*", markersize=14,
              label=f"MLE: μ = {float(loc):.3g}, σ = {float(scale):.3g}")
    left.set_xlabel("μ (loc)")
    left.set_ylabel("σ (scale)")
    left.set_title(f"likelihood of the parameters, N = {n} (contours: 1-4 s.e.)",
                   fontsize="medium")
    left.legend(loc="upper right", fontsize="small")
    span = torch.linspace(float(x.min() - scale), float(x.max() + scale), 400,
                          dtype=torch.float64)
    density = torch.distributions.Normal(loc, scale).log_prob(span).exp()
    right.hist(x.numpy(), bins=30, density=True, color="0.8", label="data (histogram)")
    right.plot(span.numpy(), density.numpy(), "r-", label="N(x | μ̂, σ̂)")
    right.set_xlabel("x")
    right.set_ylabel("density (per unit of x)")
    right.set_title("probability of x at the MLE", fontsize="medium")
    right.legend(fontsize="small")
    figure.suptitle("Probability against likelihood: the same formula, read two ways")
    return figure


def mixture_density(log_density: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, *,
                    labels: torch.Tensor | None = None, centres: torch.Tensor | None = None,
                    grid: int = 150, title: str = "Gaussian mixture: log density") -> Figure:
    r"""Contours of a 2-D mixture's log density over its data.

    The density is :math:`\log p(x) = \log \sum_k w_k \mathcal{N}(x \mid \mu_k, \Sigma_k)`.

    ``log_density`` maps points ``(M, 2)`` to log densities ``(M,)`` (e.g.
    ``mixture.log_likelihood``); ``centres`` marks the component means.
    """
    x = x.detach().cpu()
    if x.dim() != 2 or x.shape[1] != 2:
        raise ValueError(f"mixture_density draws 2-D data; got shape {tuple(x.shape)}")
    low, high = x.min(0).values, x.max(0).values
    pad = 0.1 * (high - low)
    first = torch.linspace(float(low[0] - pad[0]), float(high[0] + pad[0]), grid, dtype=x.dtype)
    second = torch.linspace(float(low[1] - pad[1]), float(high[1] + pad[1]), grid,
                            dtype=x.dtype)
    u, v = torch.meshgrid(first, second, indexing="xy")
    with torch.no_grad():
        values = log_density(torch.stack([u.reshape(-1), v.reshape(-1)], 1)).detach().cpu()
    figure = Figure(figsize=(6.4, 5), layout="constrained")
    axes = figure.subplots()
    surface = values.reshape(grid, grid).clamp(min=float(values.max()) - 15)
    filled = axes.contourf(u.numpy(), v.numpy(), surface.numpy(), levels=25, cmap="Blues")
    figure.colorbar(filled, ax=axes, label="log p(x) (nats)")
    colours = {"c": "k"} if labels is None else {"c": labels.detach().cpu().numpy(),
                                                  "cmap": "tab10"}
    axes.scatter(x[:, 0].numpy(), x[:, 1].numpy(), s=4, alpha=0.6, **colours)
    if centres is not None:
        c = centres.detach().cpu()
        axes.plot(c[:, 0].numpy(), c[:, 1].numpy(), "rx", markersize=10, mew=2,
                  label="component means")
        axes.legend(fontsize="small", loc="upper right")
    axes.set_xlabel("x₁")
    axes.set_ylabel("x₂")
    axes.set_title(title, fontsize="medium")
    return figure
