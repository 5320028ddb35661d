import math
import random

import pytest
import torch

import pvae
from pvae import ConvergenceWarning
from pvae.train.convergence import MIN_WINDOW, has_converged


def test_a_flat_noisy_run_has_converged_and_a_trending_one_has_not():
    rng = random.Random(0)
    flat = [1.0 + rng.gauss(0, 0.5) for _ in range(400)]
    assert has_converged(flat, tol=1e-6)
    falling = [10.0 - 0.01 * t + rng.gauss(0, 0.05) for t in range(400)]
    assert not has_converged(falling, tol=1e-6)
    assert has_converged(falling, tol=1.0)  # a change of 0.4 nats is within tol = 1


def test_a_short_run_has_not_shown_convergence():
    assert not has_converged([1.0] * (2 * MIN_WINDOW - 1), tol=0.0)
    assert has_converged([1.0] * (2 * MIN_WINDOW), tol=0.0)


def test_an_unconverged_fit_says_so():
    x = torch.randn(100, dtype=torch.float64) * 3 + 40
    with pytest.warns(ConvergenceWarning, match="had not converged after 30 steps"):
        result = pvae.fit(pvae.Gaussian(), x, steps=30, lr=1e-3, seed=0, progress=False)
    assert result.converged is False
    with pytest.warns(ConvergenceWarning, match="too few"):
        pvae.fit(pvae.Gaussian(), x, steps=3, progress=False)


def test_a_converged_fit_is_quiet(recwarn):
    x = torch.randn(100, dtype=torch.float64) * 3 + 40
    result = pvae.fit(pvae.Gaussian(), x, steps=1500, lr=0.2, lr_decay=1e-3, seed=0,
                      progress=False)
    assert result.converged is True
    assert not [w for w in recwarn if issubclass(w.category, ConvergenceWarning)]


def test_em_that_runs_out_of_iterations_warns():
    x = torch.cat([torch.randn(100, 2), torch.randn(100, 2) + 5])
    with pytest.warns(ConvergenceWarning, match="max_iter=2"):
        result = pvae.fit(pvae.GaussianMixture(2), x, method="em", max_iter=2, progress=False)
    assert result.converged is False and not math.isnan(result.final_loss)
