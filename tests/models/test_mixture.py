import numpy as np
import pytest
import torch
from sklearn.datasets import make_blobs
from sklearn.mixture import GaussianMixture as SkGaussianMixture

import pvae
from pvae import DataError, GaussianMixture, UnknownNameError


@pytest.fixture
def blobs():
    x, labels = make_blobs(n_samples=600, centers=3, n_features=2, cluster_std=[1.0, 2.0, 0.5],
                           random_state=3)
    return x, labels


def sklearn_from(mixture, covariance):
    """A scikit-learn mixture started exactly where ``mixture`` starts."""
    weights = mixture.weights.detach().numpy()
    means = mixture.locs.detach().numpy()
    if covariance == "full":
        tril = mixture.covariance.scale_tril.detach().numpy()
        precisions = np.linalg.inv(tril @ np.swapaxes(tril, -1, -2))
    else:
        precisions = 1 / mixture.covariance.scales.detach().numpy() ** 2
    return SkGaussianMixture(len(weights), covariance_type=covariance, tol=1e-10,
                             max_iter=1000, weights_init=weights, means_init=means,
                             precisions_init=precisions)


@pytest.mark.parametrize("covariance", ["full", "diag"])
def test_em_matches_scikit_learn_from_the_same_start(blobs, covariance):
    x, _ = blobs
    mixture = GaussianMixture(3, covariance=covariance)
    mixture.initialize(torch.as_tensor(x), torch.Generator().manual_seed(0))
    reference = sklearn_from(mixture, covariance).fit(x)
    result = pvae.fit(mixture, x, method="em", tol=1e-10, max_iter=1000, progress=False,
                      seed=0)
    assert result.converged
    ours = float(mixture.log_likelihood(x).mean())
    assert ours >= reference.score(x) - 1e-3
    assert ours == pytest.approx(reference.score(x), abs=1e-3)
    np.testing.assert_allclose(mixture.bic(x), reference.bic(x), rtol=1e-4)


def test_em_never_decreases_the_likelihood(blobs):
    x, _ = blobs
    result = pvae.fit(GaussianMixture(4), x, method="em", progress=False, seed=2)
    assert np.all(np.diff(result.losses) <= 1e-9)


def test_svi_on_the_enumerated_elbo_reaches_em(blobs, dtype):
    x = torch.as_tensor(blobs[0], dtype=dtype)
    by_svi = GaussianMixture(3)
    result = pvae.fit(by_svi, x, steps=400, lr=0.05, seed=0, progress=False)
    assert by_svi.locs.dtype == dtype
    by_em = GaussianMixture(3)
    pvae.fit(by_em, x, method="em", seed=0, progress=False)
    svi_ll = float(by_svi.log_likelihood(x).mean())
    em_ll = float(by_em.log_likelihood(x).mean())
    assert svi_ll == pytest.approx(em_ll, abs=5e-3)
    assert result.final_loss == pytest.approx(-svi_ll, abs=5e-3)  # the loss is the exact NLL
    assert result.losses[0] > result.losses[-1]


def test_log_likelihood_is_a_logsumexp_over_components(blobs):
    x = torch.as_tensor(blobs[0])
    mixture = GaussianMixture(3)
    pvae.fit(mixture, x, method="em", seed=0, progress=False)
    with torch.no_grad():
        components = torch.distributions.MultivariateNormal(
            mixture.locs, scale_tril=mixture.covariance.scale_tril)
        joint = mixture.weights.log()[:, None] + components.log_prob(x[:, None, :]).T
    torch.testing.assert_close(mixture.log_likelihood(x), torch.logsumexp(joint, 0))
    responsibilities = mixture.responsibilities(x)
    torch.testing.assert_close(responsibilities.sum(1), torch.ones(len(x), dtype=x.dtype))
    torch.testing.assert_close(responsibilities, torch.softmax(joint, 0).T)


def test_predict_recovers_separated_clusters(blobs):
    x, labels = blobs
    mixture = GaussianMixture(3)
    pvae.fit(mixture, x, method="em", n_init=3, seed=0, progress=False)
    predicted = mixture.predict(x).numpy()
    # the same partition up to relabelling: every true cluster maps to one component
    agreement = sum(np.bincount(predicted[labels == c]).max() for c in range(3)) / len(x)
    assert agreement > 0.95


def test_restarts_keep_the_best(blobs):
    x, _ = blobs
    result = pvae.fit(GaussianMixture(5), x, method="em", n_init=4, seed=0, progress=False)
    assert len(result.restart_losses) == 4
    assert min(result.restart_losses) == pytest.approx(result.final_loss, abs=1e-3)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (np.ones(10), "must be 2-D"),
        (np.random.default_rng(0).normal(size=(2, 2)), "at least 3 observations"),
        (np.c_[np.arange(10.0), np.ones(10)], "zero variance"),
        (np.full((10, 2), np.inf), "infinite"),
    ],
    ids=["1d", "too-few", "constant-column", "inf"],
)
def test_bad_data(data, message):
    with pytest.raises(DataError, match=message):
        pvae.fit(GaussianMixture(3), data, method="em", progress=False)


def test_bad_arguments(blobs):
    with pytest.raises(UnknownNameError, match="Known covariance names: diag, full"):
        GaussianMixture(2, covariance="spherical")
    with pytest.raises(ValueError, match="n_components must be a positive integer"):
        GaussianMixture(0)
    with pytest.raises(ValueError, match="does not know its dimension"):
        GaussianMixture(2).log_likelihood(blobs[0])
    with pytest.raises(DataError, match="dim=3"):
        GaussianMixture(2, dim=3).log_likelihood(blobs[0])


@pytest.mark.parametrize("covariance", ["full", "diag"])
@pytest.mark.parametrize(("k", "d"), [(1, 1), (3, 2), (4, 5)])
def test_the_closed_form_e_step_is_the_enumerated_table(covariance, k, d, float64):
    generator = torch.Generator().manual_seed(k + d)
    x = torch.randn(300, d, generator=generator) * torch.linspace(0.5, 3.0, d)
    mixture = GaussianMixture(k, covariance=covariance)
    mixture.initialize(x, generator)  # unequal weights, fitted covariances
    far = torch.cat([x, 40 * x[:20]])  # rows deep in every component's tail as well
    reference = mixture.log_joint(far)  # Pyro's enumeration of the model
    torch.testing.assert_close(mixture.closed_form_log_joint(far), reference, rtol=1e-13,
                               atol=1e-11)


@pytest.mark.parametrize("x", [torch.zeros(5, 3), torch.zeros(5), [[0.0, 1.0]]])
def test_the_closed_form_e_step_refuses_what_em_would_never_pass(x):
    mixture = GaussianMixture(2, dim=2)
    with pytest.raises(DataError, match=r"needs an \(N, 2\) tensor"):
        mixture.closed_form_log_joint(x)
