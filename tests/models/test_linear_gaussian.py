import numpy as np
import pytest
import torch
from sklearn.decomposition import PCA

import pvae
from pvae import DataError, LinearGaussian


@pytest.fixture
def ppca_data():
    generator = torch.Generator().manual_seed(0)
    weight = torch.randn(5, 2, generator=generator, dtype=torch.float64) * 2
    z = torch.randn(400, 2, generator=generator, dtype=torch.float64)
    noise = 0.5 * torch.randn(400, 5, generator=generator, dtype=torch.float64)
    return z @ weight.T + torch.tensor([1.0, -2.0, 0.0, 3.0, 0.5], dtype=torch.float64) + noise


def test_closed_form_matches_scikit_learns_probabilistic_pca(ppca_data):
    model = LinearGaussian(5, 2).double()
    model.set_closed_form(ppca_data)
    reference = PCA(n_components=2).fit(ppca_data.numpy())
    # scikit-learn estimates the covariance with 1/(N-1); the maximum likelihood uses 1/N
    n = len(ppca_data)
    np.testing.assert_allclose(float(model.noise.detach()) ** 2 * n / (n - 1),
                               reference.noise_variance_)
    ours = float(model.log_likelihood(ppca_data).mean())
    assert reference.score(ppca_data.numpy()) <= ours < reference.score(ppca_data.numpy()) + 1e-4


def test_closed_form_is_a_maximum(ppca_data):
    model = LinearGaussian(5, 2).double()
    model.set_closed_form(ppca_data)
    best = float(model.log_likelihood(ppca_data).mean())
    generator = torch.Generator().manual_seed(1)
    for _ in range(5):
        with torch.no_grad():
            model.weight_unconstrained.add_(0.05 * torch.randn(5, 2, generator=generator,
                                                               dtype=torch.float64))
        assert float(model.log_likelihood(ppca_data).mean()) < best


@pytest.mark.slow
def test_svi_reaches_the_maximum_likelihood(ppca_data):
    # The last few hundredths of a nat are a slow rotation of W towards W^T W diagonal (where
    # the diagonal guide is exact); 2000 steps stop 0.001-0.03 short depending on the seed.
    model = LinearGaussian(5, 2)
    pvae.fit(model, ppca_data, steps=6000, lr=0.1, lr_decay=0.01, seed=0, progress=False)
    best = LinearGaussian(5, 2).double()
    best.set_closed_form(ppca_data)
    fitted = float(model.log_likelihood(ppca_data).mean())
    optimum = float(best.log_likelihood(ppca_data).mean())
    assert fitted == pytest.approx(optimum, abs=0.01)
    assert fitted <= optimum + 1e-9


def test_exact_guide_makes_the_elbo_tight(ppca_data):
    model = LinearGaussian(5, 2).double()
    model.set_closed_form(ppca_data, exact_guide=True)
    torch.testing.assert_close(model.posterior_kl(ppca_data), torch.zeros(400, dtype=torch.float64),
                               atol=1e-9, rtol=0)
    estimate = pvae.elbo(model, ppca_data, num_particles=3)
    torch.testing.assert_close(estimate.per_datapoint, model.log_likelihood(ppca_data))


def test_bad_input():
    with pytest.raises(ValueError, match="cannot exceed"):
        LinearGaussian(2, 3)
    with pytest.raises(DataError, match="dim=3"):
        pvae.fit(LinearGaussian(3, 1), torch.randn(10, 2), steps=1, progress=False)
