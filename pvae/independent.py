r"""Pyro's ``Independent``, with two shortcuts that every training step takes.

``Independent(base, n)`` reinterprets the rightmost ``n`` batch dimensions of ``base`` as
event dimensions: :math:`\log p(x) = \sum_{\text{event dims}} \log p_{\text{base}}(x)`.

- A ``pyro.plate`` expands the distribution of every site inside it to the plate's batch
  shape, even one that already has it (a guide's posterior, a likelihood: one row per data
  point). Expanding to the batch shape it has returns the distribution itself: no new
  objects, no expanded views, no autograd nodes.
- ``log_prob`` sums the event dimensions in one reduction instead of a reshape and a sum.

The values are those of ``pyro.distributions.Independent``; any other expansion is its.
"""

from __future__ import annotations

from typing import Any

import pyro.distributions as dist
import torch

__all__ = ["LeanIndependent"]


class LeanIndependent(dist.Independent):
    """``pyro.distributions.Independent`` with the shortcuts of the module's docstring."""

    def expand(self, batch_shape: Any, _instance: Any = None) -> dist.Independent:
        """Itself for its own batch shape (distributions are immutable); else Pyro's."""
        if _instance is None and torch.Size(batch_shape) == self.batch_shape:
            return self
        return super().expand(batch_shape, _instance)

    def sum_events(self, per_element: torch.Tensor) -> torch.Tensor:
        """Sum ``per_element`` (of the base's batch shape) over the event dimensions."""
        if self.reinterpreted_batch_ndims == 0:
            return per_element
        return per_element.sum(tuple(range(-self.reinterpreted_batch_ndims, 0)))

    def log_prob(self, value: torch.Tensor) -> torch.Tensor:  # noqa: D102
        return self.sum_events(self.base_dist.log_prob(value))
