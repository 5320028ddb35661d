import pyro
import pyro.distributions as dist
import pytest
import torch
from pyro.nn import PyroModule, pyro_method

import pvae
from pvae.data import digits
from pvae.estimate.ais import sigmoid_schedule
from pvae.guides import guides
from pvae.likelihoods import likelihoods
from pvae.pair.traces import EnumeratedSiteError
from pvae.priors import priors

from .pca import closed_form_pca


def linear_gaussian(scale_factor=2.0):
    """A PPCA model at its closed form; its guide's scale ``scale_factor`` times the exact."""
    model, x = closed_form_pca()
    with torch.no_grad():
        model.posterior_scale_unconstrained.add_(torch.tensor(scale_factor).log())
    return model, x[:50]


def test_the_schedule_runs_from_zero_to_one_densely_at_the_ends():
    betas = sigmoid_schedule(100)
    assert betas[0] == 0 and betas[-1] == 1 and (betas.diff() > 0).all()
    assert betas.diff()[0] < betas.diff()[50] > betas.diff()[-1]


def test_ais_reaches_the_exact_log_likelihood_from_an_imperfect_guide():
    model, x = linear_gaussian()
    exact = float(model.log_likelihood(x).mean())
    elbo = pvae.elbo(model, x, num_particles=100).value
    assert exact - elbo > 1.0  # the guide is visibly off
    estimate = pvae.ais(model, x, steps=300, chains=16, leapfrog=5)
    assert estimate.name == "ais-300" and estimate.num_samples == 16
    assert abs(estimate.value - exact) < 0.01
    assert 0.5 < float(estimate.acceptance.mean()) < 0.8  # adapted towards 0.65
    assert (estimate.ess >= 1).all() and (estimate.ess <= 16 + 1e-9).all()


def test_with_the_exact_guide_every_weight_is_the_likelihood():
    model, x = linear_gaussian(scale_factor=1.0)
    estimate = pvae.ais(model, x, steps=3, chains=4)
    torch.testing.assert_close(estimate.per_datapoint, model.log_likelihood(x), rtol=0,
                               atol=1e-9)


def test_from_the_prior_too():
    model, x = linear_gaussian()
    exact = float(model.log_likelihood(x).mean())
    estimate = pvae.ais(model, x, steps=300, chains=16, leapfrog=5, start="prior")
    assert abs(estimate.value - exact) < 0.05


PARTS = [(prior, likelihood, guide) for prior in priors.names()
         for likelihood in likelihoods.names() for guide in guides.names()
         if not (prior == "vamp" and guide == "delta")]


@pytest.mark.parametrize(("prior", "likelihood", "guide"), PARTS, ids="-".join)
def test_every_vae_part_anneals(prior, likelihood, guide):
    vae = pvae.VAE((64,), 2, prior=prior, guide=guide, likelihood=likelihood,
                   encoder={"name": "mlp", "hidden": [8]}, decoder={"name": "mlp", "hidden": [8]})
    x = digits().test[:6]
    x = x.round() if likelihood == "bernoulli" else x
    start = "prior" if guide == "delta" else "guide"
    estimate = pvae.ais(vae, x, steps=10, chains=4, leapfrog=2, start=start,
                        check_convergence=False)  # a short run of every part: not a check
    assert torch.isfinite(estimate.per_datapoint).all()
    if guide != "delta":  # AIS from the guide is no worse than the guide's own bound
        assert estimate.value > pvae.elbo(vae, x, num_particles=50).value - 0.5


def test_a_divergent_move_is_rejected_not_a_nan():
    class Cliff(PyroModule):
        """log p(x, z) is -inf beyond |z| > 1.5: every move that lands there is refused."""

        @pyro_method
        def model(self, x, num_data=None):
            with pyro.plate("data", len(x)):
                z = pyro.sample("z", dist.Normal(x.new_zeros(()), 1.0))
                cliff = torch.where(z.abs() > 1.5, torch.inf, 0.0)
                pyro.sample("x", dist.Normal(z + cliff, 1.0), obs=x)

        @pyro_method
        def guide(self, x, num_data=None):
            with pyro.plate("data", len(x)):
                pyro.sample("z", dist.Normal(x / 2, 0.5))

    x = torch.linspace(-1, 1, 8, dtype=torch.float64)
    estimate = pvae.ais(Cliff(), x, steps=30, chains=8, leapfrog=20, start="prior")
    assert torch.isfinite(estimate.per_datapoint).all()
    assert float(estimate.acceptance.mean()) < 0.9  # long moves fall off and are refused


@pytest.mark.parametrize(("options", "message"), [
    ({"steps": 0}, "steps must be a positive integer"),
    ({"chains": 0}, "chains must be a positive integer"),
    ({"start": "posterior"}, "unknown start 'posterior'"),
    ({"target_acceptance": 1.5}, "target_acceptance"),
    ({"steps": 10**12}, "more than any run needs"),
    ({"chains": 10**12}, "chains=.* would make"),
    ({"leapfrog": 10**6}, "leapfrog=1000000 steps per move is more than any move needs"),
])
def test_bad_settings_are_refused(options, message):
    model, x = linear_gaussian()
    with pytest.raises(ValueError, match=message):
        pvae.ais(model, x, **options)


def test_what_cannot_be_annealed_says_why():
    with pytest.raises(EnumeratedSiteError, match="enumeration"):
        pvae.ais(pvae.GaussianMixture(2, dim=2), torch.randn(5, 2), steps=2)
    autoencoder = pvae.VAE((64,), 2, guide="delta")
    with pytest.raises(ValueError, match="point mass .* start='prior'"):
        pvae.ais(autoencoder, digits().test[:4].round(), steps=2)
