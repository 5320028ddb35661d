"""The guide base class and its registry."""

from __future__ import annotations

import pyro
import pyro.distributions as dist
import torch
from pyro.nn import PyroModule
from torch import nn

from ..nets import Network, pyro_visible
from ..pair import data_plate, kl_scale
from ..registry import Registry

__all__ = ["Guide", "guides"]


class Guide(PyroModule):
    r"""Base class: an amortised posterior :math:`q(z \mid x)` computed by an encoder.

    Calling the guide (``guide(x, num_data)``) samples the site ``"z"`` for every row of
    ``x`` inside the same ``"data"`` plate as the model. ``kl_weight`` scales that site
    (and the model's ``"z"``), which scales the KL term of the ELBO: the beta-VAE and KL
    warm-up.
    """

    x_shape: tuple[int, ...]
    z_dim: int
    kl_weight: float = 1.0
    #: whether q(z | x) has a density (the VampPrior and the analytic KL need one)
    has_density: bool = True
    #: whether KL(q || N(0, I)) is closed form (TraceMeanField_ELBO uses it)
    analytic_kl: bool = False

    def setup(self, x_shape: tuple[int, ...], z_dim: int, encoder: Network) -> None:
        """Build the encoder (and anything else) for this data and latent size."""
        self.x_shape, self.z_dim = x_shape, z_dim

    def posterior(self, x: torch.Tensor) -> dist.TorchDistribution:
        r""":math:`q(z \mid x)`: batch shape ``x``'s batch dimensions, event ``(z_dim,)``."""
        raise NotImplementedError

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The location and scale of the (base) Normal the encoder outputs."""
        raise NotImplementedError

    def forward(self, x: torch.Tensor, num_data: int | None = None) -> torch.Tensor:
        """Sample ``z ~ q(z | x)`` for every row of ``x``."""
        if x is None:
            raise ValueError("the guide encodes data: call it with x, a tensor of rows; to "
                             "generate without data call the model, vae.model(None)")
        with data_plate(x, num_data), kl_scale(self.kl_weight):
            return pyro.sample("z", self.posterior(x))

    @staticmethod
    def pyro_net(net: nn.Module) -> nn.Module:
        """Make a plain torch network's parameters visible to Pyro (and to plain SVI)."""
        return pyro_visible(net)


guides = Registry("guide", Guide)
