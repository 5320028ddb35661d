"""No estimate comes back NaN in silence; too little data for an error bar says so."""

import pyro
import pyro.distributions as dist
import pytest
import torch

import pvae
from pvae.estimate import Estimate, NonFiniteEstimateError


def model(x, num_data=None):
    with pyro.plate("data", x.shape[0]):
        z = pyro.sample("z", dist.Normal(torch.zeros(()), 1.0))
        pyro.sample("x", dist.Normal(z, 1.0), obs=x)


def guide_nan_on_negative_rows(x, num_data=None):
    with pyro.plate("data", x.shape[0]):
        pyro.sample("z", dist.Normal(x.sqrt(), 1.0))  # NaN where x < 0


@pytest.mark.parametrize("estimator", [
    lambda pair, x: pvae.elbo(pair, x),
    lambda pair, x: pvae.iwae(pair, x, k=4),
    lambda pair, x: pvae.ais(pair, x, steps=3, chains=2),
])
def test_a_non_finite_density_on_some_rows_is_an_error_naming_them(estimator):
    x = torch.tensor([1.0, 2.0, -1.0, 3.0, -2.0])
    pair = pvae.Pair(model, guide_nan_on_negative_rows)
    with pytest.raises(NonFiniteEstimateError, match=r"on 2 of 5 datapoints \(rows 2, 4\)"), \
            pyro.validation_enabled(False):
        estimator(pair, x)


def test_gaps_refuse_a_log_likelihood_of_nan():
    vae = pvae.VAE((4,), 1, encoder={"name": "mlp", "hidden": [3]},
                   decoder={"name": "mlp", "hidden": [3]})
    x = torch.rand(3, 4).round()
    values = torch.tensor([0.0, float("nan"), 1.0])
    given = Estimate("ais", float("nan"), float("nan"), values, 4)
    with pytest.raises(NonFiniteEstimateError, match=r"the log_likelihood given .*\(rows 1\)"):
        pvae.gaps(vae, x, steps=2, log_likelihood=given)


def estimate(values):
    values = torch.tensor(values, dtype=torch.float64)
    return Estimate("e", float(values.mean()), 0.0, values, 1)


def test_a_comparison_over_one_datapoint_has_no_standard_error():
    with pytest.raises(ValueError, match="at least 2 datapoints; these cover 1"):
        pvae.compare({"a": estimate([1.0]), "b": estimate([2.0])})


def test_differences_without_spread_have_no_standard_error():
    with pytest.raises(ValueError, match="b differs from a by the same amount on every"):
        pvae.compare({"a": estimate([1.0, 2.0, 3.0]), "b": estimate([0.5, 1.5, 2.5])})
    tie = pvae.compare({"a": estimate([1.0, 2.0]), "b": estimate([1.0, 2.0])})
    assert [row.difference for row in tie] == [0.0, 0.0]


def test_one_row_of_a_linear_gaussian_has_a_likelihood_and_bounds():
    pair, x = pvae.LinearGaussian(3, 1), torch.randn(1, 3)
    exact = pvae.exact(pair, x).value
    assert pvae.elbo(pair, x, num_particles=4000).value <= exact + 0.05
    assert pvae.score(pair, x, ks=(1, 2000)).iwae[-1].value == pytest.approx(exact, abs=0.1)
    assert pvae.ais(pair, x, steps=5, chains=2).value == pytest.approx(exact, abs=2.0)


def test_absurd_sizes_are_refused_before_any_allocation():
    vae = pvae.VAE((4,), 1, encoder={"name": "mlp", "hidden": [3]},
                   decoder={"name": "mlp", "hidden": [3]})
    x = torch.rand(50, 4).round()
    with pytest.raises(ValueError, match=r"samples=1000000000 would make 2.5e\+12 values"):
        pvae.latent_usage(vae, x, samples=10**9)
    with pytest.raises(ValueError, match="seed must be None or an integer"):
        pvae.holes(vae, x, seed="x")
    with pytest.raises(ValueError, match=r"quantile must be a number in \(0, 1\)"):
        pvae.holes(vae, x, quantile=1.5)
