"""Maximum likelihood for a Gaussian, as a Pyro model with an empty guide."""

from __future__ import annotations

from typing import Any

import pyro
import pyro.distributions as dist
import torch
from pyro.distributions import constraints
from pyro.nn import PyroModule, PyroParam, pyro_method

from ..pair import data_plate
from ..registry import remember_spec
from ..validation import (
    DataError,
    as_data,
    as_observations,
    check_count,
    check_min_points,
    check_spread,
)
from .parameters import instance_name, set_constrained

__all__ = ["Gaussian"]


class Gaussian(PyroModule):
    r"""A Gaussian whose location and scale are fitted by maximum likelihood.

    The model is

    .. math:: x_i \sim \mathcal{N}(\mu, \sigma^2), \qquad i = 1, \dots, N,

    with :math:`\mu` and :math:`\sigma > 0` as ``pyro.param`` sites (``loc``, ``scale``)
    and every observation in one ``pyro.plate``. The guide is empty, so the ELBO *is* the
    log-likelihood

    .. math:: \log p(x \mid \mu, \sigma) = -\frac{N}{2}\log(2\pi\sigma^2)
              - \frac{1}{2\sigma^2}\sum_i (x_i - \mu)^2,

    and SVI is plain gradient ascent on it. Setting its derivatives to zero gives the
    closed form :meth:`closed_form`: the sample mean and the square root of the biased
    (divide by N) variance.

    Parameters
    ----------
    dim : int or None
        ``None`` for scalar observations (data of shape ``(N,)``); ``D`` for vectors of
        shape ``(N, D)`` with independent coordinates (a diagonal scale).

    Notes
    -----
    The parameters are built at ``loc = 0``, ``scale = 1``. :func:`pvae.fit` first calls
    :meth:`initialize`, which moves them to a randomly chosen observation :math:`c` and half
    the data's range :math:`u`: a rough start in the data's units. The optimiser then works
    in those units, on :math:`\mu = c + u\,a` and :math:`\sigma = u\,b` (``loc_std`` =
    :math:`a`, ``scale_std`` = :math:`b > 0`): Adam moves a parameter by about ``lr`` per
    step, so standardising makes the same settings (``steps=1500, lr=0.2, lr_decay=1e-3``)
    reach the closed form, within 1e-3 standard deviations, whatever the data's location
    and scale. The likelihood, and so its maximum, is unchanged.
    """

    center: torch.Tensor
    unit: torch.Tensor
    loc_std: torch.Tensor
    scale_std: torch.Tensor

    def __init__(self, dim: int | None = None) -> None:
        super().__init__(name=instance_name("Gaussian"))
        try:
            self.dim = None if dim is None else check_count(dim, "dim")
        except ValueError as error:
            raise ValueError(f"dim must be None (scalar data) or a positive integer: {error}") \
                from None
        remember_spec(self, "gaussian", dim=dim)
        shape = () if dim is None else (dim,)
        self.register_buffer("center", torch.zeros(shape))
        self.register_buffer("unit", torch.ones(shape))
        self.loc_std = PyroParam(torch.zeros(shape))  # type: ignore[assignment]
        self.scale_std = PyroParam(  # type: ignore[assignment]
            torch.ones(shape), constraint=constraints.positive)

    @property
    def loc(self) -> torch.Tensor:
        r"""The location :math:`\mu = c + u\,a`."""
        return self.center + self.unit * self.loc_std

    @property
    def scale(self) -> torch.Tensor:
        r"""The scale :math:`\sigma = u\,b`."""
        return self.unit * self.scale_std

    @property
    def event_shape(self) -> tuple[int, ...]:
        """The shape of one observation: ``()`` or ``(dim,)``."""
        return () if self.dim is None else (self.dim,)

    def check_data(self, x: Any) -> torch.Tensor:
        """Validate ``x`` for this model and return it as a tensor of shape ``(N, *event)``."""
        tensor = as_data(x, event_dims=(0, 1))
        if tuple(tensor.shape[1:]) != self.event_shape:
            fits = "Gaussian()" if tensor.dim() == 1 else f"Gaussian(dim={tensor.shape[1]})"
            shape = "(N,)" if self.dim is None else f"(N, {self.dim})"
            what = "1-D" if self.dim is None else "2-D"
            raise DataError(f"data must be {what} for this Gaussian, dim={self.dim} and shape "
                            f"{shape}; got {tuple(tensor.shape)}. Build {fits} for it.")
        check_min_points(tensor, 2, "a Gaussian's scale is estimated from the spread")
        check_spread(tensor)
        return tensor

    def initialize(self, x: torch.Tensor, generator: torch.Generator) -> None:
        """Start at a random observation, with half the data's range as the scale and unit."""
        index = int(torch.randint(x.shape[0], (1,), generator=generator))
        with torch.no_grad():
            self.center.copy_(x[index])
            self.unit.copy_((x.max(0).values - x.min(0).values) / 2)
        set_constrained(self, "loc_std", torch.zeros_like(self.center))
        set_constrained(self, "scale_std", torch.ones_like(self.unit))

    def set_closed_form(self, x: Any) -> None:
        """Put ``loc`` and ``scale`` at :meth:`closed_form` (the exact maximum)."""
        loc, scale = self.closed_form(self.check_data(x))
        set_constrained(self, "loc_std", (loc.to(self.center) - self.center) / self.unit)
        set_constrained(self, "scale_std", scale.to(self.unit) / self.unit)

    def distribution(self) -> dist.TorchDistribution:
        """The fitted distribution of one observation."""
        return dist.Normal(self.loc, self.scale).to_event(len(self.event_shape))

    @pyro_method
    def model(self, x: torch.Tensor, num_data: int | None = None) -> None:
        r"""Observe every row of ``x`` under :math:`\mathcal{N}(\mu, \sigma^2)`."""
        likelihood = self.distribution()
        with data_plate(x, num_data):
            pyro.sample("x", likelihood, obs=x)

    @pyro_method
    def guide(self, x: torch.Tensor, num_data: int | None = None) -> None:
        """Empty: there are no latent variables, only parameters."""

    def log_likelihood(self, x: Any) -> torch.Tensor:
        r"""Exact :math:`\log p(x_i \mid \mu, \sigma)` for each row, shape ``(N,)``."""
        tensor = as_observations(x, self.event_shape, model=f"this Gaussian (dim={self.dim})")
        with torch.no_grad():
            return self.distribution().log_prob(tensor.to(self.loc))

    @staticmethod
    def closed_form(x: Any) -> tuple[torch.Tensor, torch.Tensor]:
        r"""The maximum-likelihood estimate in closed form.

        .. math:: \hat\mu = \frac{1}{N}\sum_i x_i, \qquad
                  \hat\sigma = \sqrt{\frac{1}{N}\sum_i (x_i - \hat\mu)^2}

        Note the divisor :math:`N`, not :math:`N - 1`: the maximum-likelihood variance is
        the biased one.
        """
        tensor = as_data(x)
        loc = tensor.mean(0)
        scale = (tensor - loc).pow(2).mean(0).sqrt()
        return loc, scale
