"""The Gaussian of :class:`~pvae.models.Gaussian`, as a posterior instead of a point."""

from __future__ import annotations

from typing import Any

import pyro
import pyro.distributions as dist
import torch

from ..likelihoods import LocationScaleFamily, location_scale_families
from ..validation import as_data, check_min_points

__all__ = ["BayesianGaussian"]


class BayesianGaussian:
    r"""Priors on a location and a scale, and a swappable observation family.

    .. math:: \mu \sim p(\mu), \quad \sigma \sim p(\sigma), \quad
              x_i \mid \mu, \sigma \sim f(\mu, \sigma), \quad i = 1, \dots, N

    where :math:`f` is a location-scale family (``"normal"``, ``"student_t"``). Fit it with
    :func:`pvae.mcmc` (NUTS): the result is a posterior over :math:`(\mu, \sigma)` rather
    than the single maximum-likelihood point, and its pointwise log-likelihood lets
    ``az.loo`` / ``az.compare`` say which family predicts held-out points better.

    Parameters
    ----------
    likelihood : str, dict or LocationScaleFamily
        The observation family, by name (``"normal"``, ``"student_t"``), spec dict
        (``{"name": "student_t", "df": 3}``) or object.
    loc_prior, scale_prior : torch Distribution, optional
        Priors for :math:`\mu` (default :math:`\mathcal{N}(0, 10^2)`) and :math:`\sigma`
        (default :math:`\mathrm{HalfNormal}(10)`); any distribution with the right support.

    Notes
    -----
    There is no guide: the posterior is sampled, not approximated. The sites are named
    ``loc``, ``scale`` (and ``df`` for a learned Student-t) and the observations ``x``.
    """

    def __init__(self, likelihood: str | dict[str, Any] | LocationScaleFamily = "normal", *,
                 loc_prior: dist.Distribution | None = None,
                 scale_prior: dist.Distribution | None = None) -> None:
        self.likelihood = location_scale_families.resolve(likelihood)
        self.loc_prior: Any = loc_prior if loc_prior is not None else dist.Normal(0.0, 10.0)
        self.scale_prior: Any = scale_prior if scale_prior is not None else dist.HalfNormal(10.0)
        for name, prior in (("loc_prior", self.loc_prior), ("scale_prior", self.scale_prior)):
            if not isinstance(prior, torch.distributions.Distribution):
                raise TypeError(f"{name} must be a torch distribution; got {type(prior).__name__}")

    def check_data(self, x: Any) -> torch.Tensor:
        """Validate scalar observations and return them as an ``(N,)`` tensor."""
        tensor = as_data(x, event_dims=(0,))
        check_min_points(tensor, 2, "a location and a scale")
        return tensor

    def model(self, x: torch.Tensor) -> None:
        """Draw ``loc`` and ``scale`` from their priors, then observe every ``x_i``."""
        loc = pyro.sample("loc", self.loc_prior)
        scale = pyro.sample("scale", self.scale_prior)
        observation = self.likelihood(loc.to(x), scale.to(x))
        with pyro.plate("data", x.shape[0]):
            pyro.sample("x", observation, obs=x)
