import numpy as np
import pytest
import torch
from tqdm.auto import tqdm

import pvae
from pvae import GaussianMixture
from pvae.train.em import run_em


@pytest.fixture
def blobs():
    generator = torch.Generator().manual_seed(0)
    centres = torch.tensor([[0.0, 0.0], [6.0, 0.0], [0.0, 6.0]], dtype=torch.float64)
    return centres.repeat_interleave(100, 0) + torch.randn(300, 2, generator=generator,
                                                           dtype=torch.float64)


def test_em_never_decreases_the_likelihood_and_stops_at_tol(blobs):
    mixture = GaussianMixture(3)
    mixture.initialize(blobs, torch.Generator().manual_seed(2))
    with tqdm(disable=True) as bar:
        losses, converged = run_em(mixture, blobs, max_iter=500, tol=1e-8, bar=bar)
    assert converged and len(losses) < 500
    assert np.all(np.diff(losses) <= 1e-12)
    assert abs(losses[-2] - losses[-1]) < 1e-8
    # the last loss is the mean negative log-likelihood at the parameters before the last M-step
    assert losses[-1] == pytest.approx(-float(mixture.log_likelihood(blobs).mean()), abs=1e-6)


def test_em_reports_no_convergence_when_it_runs_out_of_iterations(blobs):
    mixture = GaussianMixture(3)
    mixture.initialize(blobs, torch.Generator().manual_seed(2))
    with tqdm(disable=True) as bar:
        losses, converged = run_em(mixture, blobs, max_iter=2, tol=0.0, bar=bar)
    assert len(losses) == 2 and not converged


def test_em_needs_a_closed_form_m_step():
    with pytest.raises(ValueError, match="closed-form m_step"):
        pvae.fit(pvae.Gaussian(), torch.randn(20), method="em", progress=False)
