"""The Gaussian three ways: SVI's maximum likelihood, the closed form, NUTS's posterior mean."""

from __future__ import annotations

import time

import torch
from sklearn.datasets import load_digits

import pvae

from .table import Table

# name, N, true loc, true scale (None: real data)
DATASETS = [
    ("standard normal", 100, 0.0, 1.0),
    ("shifted, narrow", 1_000, 5.0, 0.5),
    ("wide, small N", 20, -3.0, 4.0),
    ("digits pixel (4, 4)", None, None, None),
]
FIT = {"steps": 1500, "lr": 0.2, "lr_decay": 1e-3}


def _data(name: str, n: int | None, loc: float | None, scale: float | None) -> torch.Tensor:
    if n is None:
        return torch.as_tensor(load_digits().images[:, 4, 4], dtype=torch.float64)
    assert loc is not None and scale is not None
    generator = torch.Generator().manual_seed(len(name))
    return loc + scale * torch.randn(n, generator=generator, dtype=torch.float64)


def run(tiny: bool) -> Table:
    """Fit each data set three ways (two small ones when ``tiny``)."""
    table = Table(
        "gaussian", "Gaussian: maximum likelihood by SVI vs closed form vs NUTS posterior mean",
        ["data", "N", "closed loc", "SVI loc", "NUTS loc", "closed scale", "SVI scale",
         "NUTS scale", "SVI rel. error", "SVI s", "NUTS s"],
    )
    fit_options = {**FIT, "steps": 50} if tiny else FIT
    sampling = ({"num_samples": 20, "warmup": 20, "chains": 1} if tiny
                else {"num_samples": 1000, "warmup": 500, "chains": 2})
    for name, n, loc, scale in DATASETS[:2] if tiny else DATASETS:
        x = _data(name, n, loc, scale)
        closed_loc, closed_scale = pvae.Gaussian.closed_form(x)
        gaussian = pvae.Gaussian()
        started = time.perf_counter()
        pvae.fit(gaussian, x, seed=0, device="cpu", progress=False, **fit_options)
        svi_seconds = time.perf_counter() - started
        started = time.perf_counter()
        tree = pvae.mcmc(pvae.BayesianGaussian(), x, seed=0, **sampling)
        nuts_seconds = time.perf_counter() - started
        svi_loc, svi_scale = float(gaussian.loc.detach()), float(gaussian.scale.detach())
        error = max(abs(svi_loc - float(closed_loc)) / float(closed_scale),
                    abs(svi_scale / float(closed_scale) - 1))
        table.add(**{
            "data": name, "N": len(x),
            "closed loc": float(closed_loc), "SVI loc": svi_loc,
            "NUTS loc": float(tree.posterior["loc"].mean()),
            "closed scale": float(closed_scale), "SVI scale": svi_scale,
            "NUTS scale": float(tree.posterior["scale"].mean()),
            "SVI rel. error": error, "SVI s": svi_seconds, "NUTS s": nuts_seconds,
        })
    table.notes += [
        "closed: the sample mean and the biased (1/N) standard deviation, the textbook MLE.",
        f"SVI: {fit_options['steps']} Adam steps on the exact log-likelihood (empty guide), "
        "from a random observation and half the data's range.",
        "SVI rel. error: max(|loc - closed| / closed scale, |scale / closed - 1|).",
        "NUTS: posterior means under N(0, 10) and HalfNormal(10) priors; with small N the "
        "scale's posterior mean sits above the MLE (the MLE's 1/N variance is biased low).",
    ]
    return table
