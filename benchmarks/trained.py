"""The VAEs that several benchmarks score: trained once for a CPU budget, cached on disk.

The sandwich and gaps benchmarks measure the same MNIST models (those of ``mnist_nll``), so
both take them from here; the first to run trains and saves them in ``results/models``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

import pvae
from pvae.data import dynamic_binarization

NETS = {"encoder": {"name": "mlp", "hidden": [400]}, "decoder": {"name": "mlp", "hidden": [400]}}
#: the mnist_nll configurations: name -> VAE options
MNIST_MODELS: dict[str, dict[str, Any]] = {
    "MNIST VAE, N(0, I) prior": {},
    "MNIST VampPrior, K=500": {"prior": {"name": "vamp", "components": 500}},
    "MNIST IAF flow guide, 2 flows": {"guide": {"name": "flow", "flows": 2}},
}
CACHE = Path("results") / "models"


def trained_vae(name: str, options: dict[str, Any], train: torch.Tensor, x_dim: int,
                z_dim: int, nets: dict[str, Any], budget: float, cached: bool) -> pvae.VAE:
    """A VAE trained for ``budget`` CPU seconds, or loaded from results/models when saved."""
    torch.manual_seed(0)
    vae = pvae.VAE((x_dim,), z_dim, **nets, **options)
    path = CACHE / (name.replace(" ", "_").replace(",", "").replace("(", "").replace(")", "")
                    .replace("=", "") + ".pt")
    if cached and path.is_file():
        vae.load_state_dict(torch.load(path, weights_only=True))
        return vae
    pvae.fit(vae, train, epochs=10_000, batch_size=128, lr=1e-3, seed=0,
             transform=dynamic_binarization, time_limit=budget, progress=False)
    if cached:
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save(vae.state_dict(), path)
    return vae
