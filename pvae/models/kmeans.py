"""k-means++ seeding, the usual starting point for a Gaussian mixture."""

from __future__ import annotations

import torch

__all__ = ["kmeans_plusplus"]


def kmeans_plusplus(x: torch.Tensor, k: int, generator: torch.Generator) -> torch.Tensor:
    """Pick ``k`` rows of ``x`` as centres, each new one with probability ∝ squared distance.

    The first centre is uniform over the rows; every next one is drawn with probability
    proportional to :math:`D(x_i)^2`, the squared distance to the nearest centre chosen so
    far (Arthur & Vassilvitskii, 2007). Returns a ``(k, D)`` tensor on ``x``'s device.

    Parameters
    ----------
    x : Tensor
        Data of shape ``(N, D)``.
    k : int
        The number of centres, at most ``N``.
    generator : torch.Generator
        A CPU generator; the same seed gives the same centres on every device.
    """
    n = x.shape[0]
    chosen = [int(torch.randint(n, (1,), generator=generator))]
    nearest = (x - x[chosen[0]]).pow(2).sum(-1)
    for _ in range(1, k):
        weights = nearest.detach().double().cpu()
        if float(weights.sum()) <= 0:  # every point already sits on a centre
            weights = torch.ones(n, dtype=torch.float64)
        index = int(torch.multinomial(weights, 1, generator=generator))
        chosen.append(index)
        nearest = torch.minimum(nearest, (x - x[index]).pow(2).sum(-1))
    return x[chosen].clone()
