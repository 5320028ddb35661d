"""Likelihoods for real-valued data: Gaussian and Laplace, with a fixed or learned scale."""

from __future__ import annotations

from typing import override

import pyro.distributions as dist
import torch
from pyro.distributions import constraints
from pyro.nn import PyroParam

from ..validation import check_positive_number
from .base import Likelihood, likelihoods
from .location_scale import LocationScaleFamily, location_scale_families

__all__ = ["Gaussian", "Laplace", "ScaledLikelihood"]

SCALE_MODES = ("learned", "per_dim")


class ScaledLikelihood(Likelihood):
    """A location-scale family whose location is the decoder output.

    The family is one of :data:`~pvae.likelihoods.location_scale.location_scale_families`
    (named by the subclass's ``family_name``). The scale is fixed (a number), one learned
    scalar (``"learned"``) or learned per dimension (``"per_dim"``).
    """

    scale: torch.Tensor | float
    #: a name in ``location_scale_families``
    family_name: str

    def __init__(self, scale: float | str = "learned") -> None:
        super().__init__()
        if isinstance(scale, str) and scale not in SCALE_MODES:
            raise ValueError(f"scale must be a positive number or one of {SCALE_MODES}; "
                             f"got {scale!r}")
        if not isinstance(scale, str):
            scale = check_positive_number(scale, "a fixed scale")
        self.scale_mode = scale
        self.family: LocationScaleFamily = location_scale_families.resolve(self.family_name)

    @override
    def setup(self, x_shape: tuple[int, ...]) -> None:
        super().setup(x_shape)
        if self.scale_mode == "learned":
            self.scale = PyroParam(torch.ones(()), constraint=constraints.positive)  # type: ignore[assignment]
        elif self.scale_mode == "per_dim":
            self.scale = PyroParam(torch.ones(x_shape), constraint=constraints.positive)  # type: ignore[assignment]
        else:
            self.register_buffer("scale", torch.tensor(float(self.scale_mode)))

    @override
    def forward(self, decoded: torch.Tensor) -> dist.TorchDistribution:
        scale = torch.as_tensor(self.scale).to(decoded).expand(decoded.shape)
        return self.family(decoded, scale).to_event(len(self.x_shape))

    @override
    def mean(self, decoded: torch.Tensor) -> torch.Tensor:
        return decoded


@likelihoods.register("gaussian")
class Gaussian(ScaledLikelihood):
    r"""Real values: :math:`x_d \sim \mathcal{N}(\mu_d(z), \sigma^2)`."""

    family_name = "normal"


@likelihoods.register("laplace")
class Laplace(ScaledLikelihood):
    r"""Real values with heavier tails: :math:`x_d \sim \mathrm{Laplace}(\mu_d(z), b)`.

    :math:`-\log p(x\mid z)` is an L1 reconstruction error scaled by :math:`1/b`.
    """

    family_name = "laplace"
