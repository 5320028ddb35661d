"""pvae's Gaussian mixture (EM and SVI) against scikit-learn, from the same start."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from sklearn.datasets import make_blobs
from sklearn.mixture import GaussianMixture as SkGaussianMixture

import pvae

from .table import Table, alternating_medians

TINY = [(500, 2, 3)]
FULL = [(1_000, 2, 3), (10_000, 2, 5), (10_000, 5, 5), (20_000, 10, 8)]
TOL = 1e-4  # the same stopping rule on both sides: change in mean log-likelihood


def _sklearn_start(mixture: pvae.GaussianMixture) -> dict[str, np.ndarray]:
    tril = mixture.covariance.scale_tril.detach().numpy()
    return {
        "weights_init": mixture.weights.detach().numpy(),
        "means_init": mixture.locs.detach().numpy(),
        "precisions_init": np.linalg.inv(tril @ np.swapaxes(tril, -1, -2)),
    }


def _case(n: int, d: int, k: int, svi_steps: int, repeats: int) -> dict[str, float]:
    x_np, _ = make_blobs(n_samples=n, centers=k, n_features=d, cluster_std=1.5,
                         random_state=n + d + k)
    x = torch.as_tensor(x_np)  # float64, as scikit-learn computes
    start = pvae.GaussianMixture(k)
    start.initialize(x, torch.Generator().manual_seed(0))
    state = {key: value.clone() for key, value in start.state_dict().items()}
    sklearn_options = {"covariance_type": "full", "tol": TOL, "max_iter": 1000,
                       **_sklearn_start(start)}
    fitted: dict[str, Any] = {}

    def by_sklearn() -> None:
        fitted["sklearn"] = SkGaussianMixture(k, **sklearn_options).fit(x_np)

    def by_pvae(method: str) -> None:
        mixture = pvae.GaussianMixture(k, dim=d)
        mixture.to(torch.float64).load_state_dict(state)
        options = ({"tol": TOL, "max_iter": 1000} if method == "em"
                   else {"steps": svi_steps, "lr": 0.05})
        result = pvae.fit(mixture, x, method=method, reinitialize=False, device="cpu",
                          progress=False, **options)
        fitted[method] = (mixture, result)

    seconds = alternating_medians(
        {"sklearn": by_sklearn, "em": lambda: by_pvae("em"), "svi": lambda: by_pvae("svi")},
        repeats=repeats,
    )
    reference = fitted["sklearn"]
    em, em_result = fitted["em"]
    svi, _ = fitted["svi"]
    em_ll = float(em.log_likelihood(x).mean())
    return {
        "N": n, "D": d, "K": k,
        "sklearn log p(x)": reference.score(x_np),
        "EM log p(x)": em_ll,
        "SVI log p(x)": float(svi.log_likelihood(x).mean()),
        "EM - sklearn": em_ll - reference.score(x_np),
        "sklearn iters": reference.n_iter_,
        "EM iters": em_result.steps,
        "SVI steps": svi_steps,
        "EM time / sklearn": seconds["em"] / seconds["sklearn"],
        "SVI time / sklearn": seconds["svi"] / seconds["sklearn"],
    }


def run(tiny: bool) -> Table:
    """Run every case (one small case when ``tiny``)."""
    table = Table(
        "gmm", "Gaussian mixture: pvae EM and SVI against scikit-learn (full covariance)",
        ["N", "D", "K", "sklearn log p(x)", "EM log p(x)", "SVI log p(x)", "EM - sklearn",
         "sklearn iters", "EM iters", "SVI steps", "EM time / sklearn", "SVI time / sklearn"],
    )
    svi_steps = 50 if tiny else 300
    for n, d, k in TINY if tiny else FULL:
        table.add(**_case(n, d, k, svi_steps, repeats=1 if tiny else 7))
    table.notes += [
        "log p(x) is the mean log-likelihood per point (nats) on the training data, at the "
        "fitted parameters; both EM runs start from the same k-means++ initialisation and "
        f"stop when it changes by less than {TOL}.",
        "Times are medians of alternating runs in one process (float64, CPU, one thread "
        "for each library: OMP_NUM_THREADS=1; see benchmarks/run.py). SVI runs a fixed "
        f"{svi_steps} Adam steps (lr 0.05) on the enumerated ELBO.",
    ]
    return table
