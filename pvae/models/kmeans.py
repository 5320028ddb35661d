"""k-means++ seeding, the usual starting point for a Gaussian mixture (scikit-learn's)."""

from __future__ import annotations

import torch
from sklearn.cluster import kmeans_plusplus as _sklearn_kmeans_plusplus

__all__ = ["kmeans_plusplus"]

#: scikit-learn's seeds are 32-bit
_SEED_RANGE = 2**31 - 1


def kmeans_plusplus(x: torch.Tensor, k: int, generator: torch.Generator) -> torch.Tensor:
    r"""Pick ``k`` rows of ``x`` as centres, each new one likelier the farther it is.

    The first centre is uniform over the rows; every next one is drawn with probability
    proportional to :math:`D(x_i)^2`, the squared distance to the nearest centre chosen so
    far (Arthur & Vassilvitskii, 2007). This is scikit-learn's greedy variant: it draws
    :math:`2 + \log k` candidates per centre and keeps the one that lowers the inertia most,
    a better start than one draw. Returns a ``(k, D)`` tensor of rows of ``x``, on ``x``'s
    device.

    Parameters
    ----------
    x : Tensor
        Data of shape ``(N, D)``.
    k : int
        The number of centres, at most ``N``.
    generator : torch.Generator
        A CPU generator; the same seed gives the same centres on every device (the draw runs
        on the CPU, in float64, from a seed taken from ``generator``).
    """
    seed = int(torch.randint(_SEED_RANGE, (1,), generator=generator))
    rows = x.detach().to("cpu", torch.float64).numpy()
    _, indices = _sklearn_kmeans_plusplus(rows, k, random_state=seed)
    return x[torch.as_tensor(indices, device=x.device)].clone()
