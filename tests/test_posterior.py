import arviz as az
import numpy as np
import pyro
import pyro.distributions as dist
import pytest
import torch

import pvae
from pvae.posterior import pointwise_log_likelihood


def regression(x, y):
    """Any Pyro model with an observed site: a line with unknown slope and noise."""
    slope = pyro.sample("slope", dist.Normal(0.0, 5.0))
    noise = pyro.sample("noise", dist.HalfNormal(2.0))
    with pyro.plate("points", len(x)):
        pyro.sample("y", dist.Normal(slope * x, noise), obs=y)


@pytest.fixture
def line():
    x = torch.linspace(-2, 2, 40)
    y = 1.5 * x + 0.3 * torch.randn(40, generator=torch.Generator().manual_seed(0))
    return x, y


def test_any_model_becomes_a_data_tree(line):
    x, y = line
    tree = pvae.mcmc(regression, x, y, num_samples=150, warmup=150, chains=2, seed=3)
    assert {"posterior", "log_likelihood", "observed_data"} <= set(tree.children)
    assert tree.posterior["slope"].shape == (2, 150)
    assert tree.log_likelihood["y"].shape == (2, 150, 40)
    np.testing.assert_allclose(tree.observed_data["y"].values, y.numpy())
    assert float(tree.posterior["slope"].mean()) == pytest.approx(1.5, abs=0.1)
    loo = az.loo(tree)
    assert np.isfinite(loo.elpd)


def test_pointwise_log_likelihood_matches_a_direct_evaluation(line):
    x, y = line
    draws = {"slope": torch.tensor([1.0, 2.0]), "noise": torch.tensor([0.5, 1.0])}
    log_lik, observed = pointwise_log_likelihood(regression, draws, x, y)
    expected = dist.Normal(draws["slope"][:, None] * x, draws["noise"][:, None]).log_prob(y)
    torch.testing.assert_close(log_lik["y"], expected)
    assert observed["y"] is y


def test_a_deterministic_site_is_no_observation(line):
    def with_a_deterministic(x, y):
        slope = pyro.sample("slope", dist.Normal(0.0, 5.0))
        noise = pyro.sample("noise", dist.HalfNormal(2.0))
        pyro.deterministic("variance", noise**2)
        with pyro.plate("points", len(x)):
            pyro.sample("y", dist.Normal(slope * x, noise), obs=y)

    x, y = line
    draws = {"slope": torch.tensor([1.0, 2.0]), "noise": torch.tensor([0.5, 1.0])}
    log_lik, observed = pointwise_log_likelihood(with_a_deterministic, draws, x, y)
    assert set(log_lik) == set(observed) == {"y"}
    tree = pvae.mcmc(with_a_deterministic, x, y, num_samples=10, warmup=10, chains=1)
    assert set(tree.log_likelihood.data_vars) == {"y"}


def test_a_model_without_observations_is_refused():
    def prior_only():
        pyro.sample("a", dist.Normal(0.0, 1.0))

    with pytest.raises(ValueError, match="no observed sites"):
        pvae.mcmc(prior_only, num_samples=5, warmup=5, chains=1)


@pytest.mark.parametrize("bad", [{"num_samples": 0}, {"chains": -1}, {"warmup": -5}])
def test_bad_settings(line, bad):
    with pytest.raises(ValueError, match="must be a"):
        pvae.mcmc(regression, *line, **bad)
