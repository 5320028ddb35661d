"""pvae's Gaussian mixture (EM and SVI) against scikit-learn, from the same start.

``python -m benchmarks.gmm N D K SVI_STEPS REPEATS`` runs one case and prints its row as
JSON: the threading rows run that way, each in a process whose threading is its own.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
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
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                    "OMP_WAIT_POLICY")
#: The first runs in this process (benchmarks/run.py sets it); the others in their own.
THREADING = {
    "1 each": {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"},
    "2 each, passive": {"OMP_NUM_THREADS": "2", "OPENBLAS_NUM_THREADS": "2",
                        "MKL_NUM_THREADS": "2", "OMP_WAIT_POLICY": "PASSIVE"},
    "default": {},  # what a user who sets nothing gets: every core, spinning waits
}


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
        "threads": next(iter(THREADING)), "N": n, "D": d, "K": k,
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


def _in_own_process(threading: str, case: tuple[int, int, int], svi_steps: int,
                    repeats: int) -> dict[str, Any]:
    """``_case`` in a fresh interpreter with the threading environment ``threading``."""
    env = {key: value for key, value in os.environ.items() if key not in THREAD_VARIABLES}
    env.update(THREADING[threading])
    command = [sys.executable, "-m", "benchmarks.gmm", *map(str, (*case, svi_steps, repeats))]
    output = subprocess.run(command, env=env, check=True, capture_output=True, text=True)
    return {**json.loads(output.stdout.splitlines()[-1]), "threads": threading}


def run(tiny: bool) -> Table:
    """Run every case (one small case when ``tiny``), then the first under each threading."""
    table = Table(
        "gmm", "Gaussian mixture: pvae EM and SVI against scikit-learn (full covariance)",
        ["threads", "N", "D", "K", "sklearn log p(x)", "EM log p(x)", "SVI log p(x)",
         "EM - sklearn", "sklearn iters", "EM iters", "SVI steps", "EM time / sklearn",
         "SVI time / sklearn"],
    )
    svi_steps = 10 if tiny else 300
    cases, repeats = (TINY, 1) if tiny else (FULL, 7)
    for n, d, k in cases:
        table.add(**_case(n, d, k, svi_steps, repeats))
    for threading in list(THREADING)[1:]:
        table.add(**_in_own_process(threading, cases[0], svi_steps, repeats))
    table.notes += [
        "log p(x) is the mean log-likelihood per point (nats) on the training data, at the "
        "fitted parameters; both EM runs start from the same k-means++ initialisation and "
        f"stop when it changes by less than {TOL}.",
        "Times are medians of alternating runs in one process (float64, CPU). threads: "
        "'1 each' is OMP_NUM_THREADS=OPENBLAS_NUM_THREADS=MKL_NUM_THREADS=1 (the setting of "
        "benchmarks/run.py); '2 each, passive' sets them to 2 with OMP_WAIT_POLICY=PASSIVE; "
        "'default' sets none (every core, with the libraries' spinning waits). pvae runs EM "
        "on data of fewer than pvae.train.em.ONE_THREAD_BELOW values on one thread whatever "
        f"the setting. SVI runs a fixed {svi_steps} Adam steps (lr 0.05) on the enumerated "
        "ELBO.",
    ]
    return table


if __name__ == "__main__":
    n, d, k, steps, times = map(int, sys.argv[1:6])
    print(json.dumps(_case(n, d, k, steps, times)))
