"""Location-scale observation families, ``p(x | loc, scale)``, swappable by name.

Used by :class:`pvae.models.BayesianGaussian`: the model draws a location and a scale from
their priors and hands them to its family, which returns the distribution of one
observation. ``"normal"``, ``"student_t"`` and ``"laplace"`` are registered in
``location_scale_families``; the VAE's real-valued likelihoods
(:mod:`pvae.likelihoods.real`) use the same families.
"""

from __future__ import annotations

from typing import override

import pyro
import pyro.distributions as dist
import torch
from pyro.nn import PyroModule

from ..registry import Registry

__all__ = ["LaplaceFamily", "LocationScaleFamily", "Normal", "StudentT",
           "location_scale_families"]


class LocationScaleFamily(PyroModule):
    """Base class: ``family(loc, scale)`` returns the distribution of one observation."""

    def forward(self, loc: torch.Tensor, scale: torch.Tensor) -> dist.TorchDistribution:
        """The observation distribution at ``loc`` and ``scale``."""
        raise NotImplementedError


location_scale_families = Registry("observation family", LocationScaleFamily)


@location_scale_families.register("normal")
class Normal(LocationScaleFamily):
    r"""Gaussian observations, :math:`x \sim \mathcal{N}(\mu, \sigma^2)`."""

    @override
    def forward(self, loc: torch.Tensor, scale: torch.Tensor) -> dist.TorchDistribution:
        return dist.Normal(loc, scale)


@location_scale_families.register("student_t")
class StudentT(LocationScaleFamily):
    r"""Heavy-tailed observations, :math:`x \sim t_\nu(\mu, \sigma)`.

    Parameters
    ----------
    df : float or None
        The degrees of freedom :math:`\nu`. ``None`` (the default) makes :math:`\nu` a
        latent site ``"df"`` with the prior :math:`\nu \sim \mathrm{Gamma}(2, 0.1)`
        (Juárez and Steel, 2010), so the data decide how heavy the tails are.
    """

    def __init__(self, df: float | None = None) -> None:
        super().__init__()
        if df is not None and not df > 0:
            raise ValueError(f"df must be positive or None (learned); got {df}")
        self.df = df

    @override
    def forward(self, loc: torch.Tensor, scale: torch.Tensor) -> dist.TorchDistribution:
        if self.df is None:
            df = pyro.sample("df", dist.Gamma(loc.new_tensor(2.0), loc.new_tensor(0.1)))
        else:
            df = loc.new_tensor(self.df)
        return dist.StudentT(df, loc, scale)


@location_scale_families.register("laplace")
class LaplaceFamily(LocationScaleFamily):
    r"""Heavier tails, a sharp peak: :math:`x \sim \mathrm{Laplace}(\mu, b)`.

    :math:`-\log p(x) = \log 2b + |x - \mu| / b`: an absolute error scaled by :math:`1/b`.
    """

    @override
    def forward(self, loc: torch.Tensor, scale: torch.Tensor) -> dist.TorchDistribution:
        return dist.Laplace(loc, scale)
