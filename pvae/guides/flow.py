"""A normalising-flow guide: a diagonal Normal refined by inverse-autoregressive flows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast, override

import pyro
import pyro.distributions as dist
import torch
from pyro.distributions.transforms import conditional_affine_autoregressive
from torch import nn
from torch.nn.functional import softplus

from ..nets import Network
from ..validation import check_positive_int
from .base import Guide, guides
from .normal import MIN_SCALE

__all__ = ["FlowGuide"]


@guides.register("flow")
class FlowGuide(Guide):
    r"""Inverse-autoregressive flow (Kingma et al., 2016) conditioned on ``x``.

    :math:`z_0 \sim \mathcal{N}(\mu(x), \mathrm{diag}\,\sigma(x)^2)`, then
    :math:`z_t = \mu_t(z_{t-1}, h) + \sigma_t(z_{t-1}, h) \odot z_{t-1}` for
    :math:`t = 1..T`, each an autoregressive affine map conditioned on a context
    :math:`h(x)` from the encoder. The density stays exact:
    :math:`\log q(z_T) = \log q(z_0) - \sum_t \sum_j \log \sigma_{t,j}`; the posterior can be
    skewed and correlated where a diagonal Normal cannot.

    Parameters
    ----------
    flows : int
        T, the number of autoregressive transforms.
    hidden : sequence of int
        Hidden widths of each transform's autoregressive network.
    context : int
        Size of the context vector :math:`h(x)` the encoder adds to its output.
    """

    def __init__(self, flows: int = 2, hidden: Sequence[int] = (64,), context: int = 32) -> None:
        super().__init__()
        self.num_flows = check_positive_int(flows, "flows")
        if isinstance(hidden, str | bytes) or not isinstance(hidden, Sequence) or not hidden:
            raise ValueError(f"flow hidden must be a non-empty list of widths; got {hidden!r}")
        self.hidden = [check_positive_int(width, "each flow hidden width") for width in hidden]
        self.context = check_positive_int(context, "context")

    @override
    def setup(self, x_shape: tuple[int, ...], z_dim: int, encoder: Network) -> None:
        narrow = [width for width in self.hidden if width < z_dim]
        if narrow:
            raise ValueError(f"a flow's hidden widths must be at least the latent's size "
                             f"z_dim={z_dim} (an autoregressive layer needs one unit per "
                             f"dimension); got hidden={self.hidden}")
        super().setup(x_shape, z_dim, encoder)
        self.encoder = self.pyro_net(encoder.build(x_shape, (2 * z_dim + self.context,)))
        # Pyro's transforms cannot become PyroModules (their metaclass differs), so their
        # parameters are announced with pyro.module on every call instead.
        self.flows = nn.ModuleList(
            conditional_affine_autoregressive(z_dim, self.context, hidden_dims=self.hidden)
            for _ in range(self.num_flows)
        )

    def _split(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        out = self.encoder(x)
        z = self.z_dim
        return out[..., :z], softplus(out[..., z:2 * z]) + MIN_SCALE, out[..., 2 * z:]

    @override
    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        loc, scale, _ = self._split(x)
        return loc, scale

    @override
    def posterior(self, x: torch.Tensor) -> dist.TorchDistribution:
        loc, scale, context = self._split(x)
        base = dist.Normal(loc, scale).to_event(1)
        pyro.module(f"{self._pyro_name}.flows", self.flows)
        transforms = [cast(Any, flow).condition(context) for flow in self.flows]
        return dist.TransformedDistribution(base, transforms)
