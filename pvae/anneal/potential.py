r"""What AIS anneals along: a :class:`Potential`, the two ends of a path of densities.

An annealing path runs from a **start density** :math:`p_0(z)` — in pvae, ``start`` always
names this density — to an unnormalised posterior :math:`p(x, z)` through the geometric
bridge

.. math:: f_\beta(z) = p_0(z)^{1 - \beta}\, p(x, z)^{\beta}, \qquad 0 \le \beta \le 1.

HMC on :math:`f_\beta` needs the potential energy and its gradient,

.. math:: U_\beta(z) = -\big[(1 - \beta) \log p_0(z) + \beta \log p(x, z)\big],

and AIS's weights need the two log-densities apart. A :class:`Potential` gives both ends at
once; :func:`energy_and_gradient` turns them into :math:`U_\beta` and :math:`\nabla U_\beta`.
Two kinds of latents implement it: a pair's codes, one per datapoint
(:func:`pvae.ais`), and a Bayesian model's latents, shared by the data set
(:func:`pvae.evidence`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import torch

__all__ = ["Evaluate", "Potential", "energy_and_gradient"]

#: ``evaluate(z, cold, hot)``: :math:`U_\beta(z)`, its gradient, :math:`\log p(x, z)` and
#: :math:`\log p_0(z)`, with ``cold`` :math:`= 1 - \beta` and ``hot`` :math:`= \beta`
Evaluate = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], tuple[torch.Tensor, ...]]


class Potential(Protocol):
    r"""The two ends of an annealing path over chains of codes ``z``, ``(chains, rows, *event)``.

    ``rows`` are independent targets annealed side by side (datapoints for
    :func:`pvae.ais`; one data set for :func:`pvae.evidence`), each with ``chains`` chains.
    """

    #: whether :func:`~pvae.anneal.anneal` may record :meth:`ends` once and replay it
    #: (:mod:`~pvae.anneal.recorded`): only where the ends are a fixed program of tensors
    recordable: bool

    def draw(self, chains: int) -> torch.Tensor:
        """``chains`` draws per row from the start density :math:`p_0`."""
        ...

    def ends(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        r""":math:`\log p(x, z)` and :math:`\log p_0(z)` at ``z``, each ``(chains, rows)``."""
        ...


def energy_and_gradient(ends: Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]],
                        z: torch.Tensor, cold: torch.Tensor,
                        hot: torch.Tensor) -> tuple[torch.Tensor, ...]:
    r""":math:`U_\beta(z)`, its gradient, :math:`\log p(x, z)` and :math:`\log p_0(z)`.

    ``cold`` is :math:`1 - \beta` and ``hot`` is :math:`\beta`, both 0-dimensional tensors of
    ``z``'s dtype: the eager reference, and what :class:`~pvae.anneal.RecordedPotential`
    records. Gradients are taken with respect to ``z`` alone (``torch.autograd.grad``), so
    no parameter's gradient is computed or touched.
    """
    with torch.enable_grad():
        leaf = z.detach().requires_grad_(True)
        joint, start = ends(leaf)
        energy = -(cold * start + hot * joint).sum()
        (gradient,) = torch.autograd.grad(energy, leaf)
    return energy.detach(), gradient, joint.detach(), start.detach()
