"""pvae.evidence from a guide: exact from the exact posterior, the ladder from autoguides."""

import pyro
import pyro.distributions as dist
import pytest
import torch
from pyro.infer import SVI, Trace_ELBO
from pyro.infer.autoguide import AutoDelta, AutoMultivariateNormal, AutoNormal

from pvae.bayes import EvidenceError, evidence
from pvae.bayes.model_latents import ModelLatents

from .test_evidence import CASES, TOLERANCE, data, normal_mean_exact, normal_mean_model


def exact_posterior_guide(x):
    # mu | x ~ N(sum(x) / (n + 1/4), 1 / (n + 1/4)) for the prior N(0, 2^2) and unit noise
    precision = len(x) + 0.25
    pyro.sample("mu", dist.Normal(x.sum() / precision, precision**-0.5))


@pytest.mark.parametrize("steps", [1, 30])
def test_with_the_exact_posterior_as_guide_every_weight_is_the_evidence(steps):
    x = data("normal mean")
    estimate = evidence(normal_mean_model, x, guide=exact_posterior_guide, steps=steps,
                        chains=64, seed=0)
    assert estimate.value == pytest.approx(normal_mean_exact(x), abs=1e-10)
    assert estimate.log_weight_variance < 1e-20 and estimate.ess == pytest.approx(64)


def fitted(guide_class, model, x):
    pyro.clear_param_store()
    pyro.set_rng_seed(0)
    guide = guide_class(model)
    svi = SVI(model, guide, pyro.optim.Adam({"lr": 0.02}), Trace_ELBO())
    for _ in range(1500):
        svi.step(x)
    return guide


@pytest.mark.parametrize(("name", "guide_class"), [
    ("bayesian regression", AutoMultivariateNormal), ("gamma-poisson", AutoNormal)])
def test_the_ladder_from_a_fitted_autoguide_climbs_to_the_exact_evidence(name, guide_class):
    model, exact = CASES[name]
    x = data(name)
    guide = fitted(guide_class, model, x)
    truth = exact(x)
    elbo = -Trace_ELBO(num_particles=4000, vectorize_particles=True).loss(model, guide, x)
    iwae = evidence(model, x, guide=guide, steps=1, chains=1000, seed=0)
    annealed = evidence(model, x, guide=guide, steps=100, chains=256, seed=0)
    # the same ELBO as Pyro's, read off the importance weights
    assert iwae.mean_log_weight == pytest.approx(elbo, abs=0.02)
    # KL(q || p(theta | x)) = log p(x) - ELBO > 0, and IWAE-1000 recovers most of it
    assert truth - elbo > 0.03
    assert elbo < iwae.value < truth + 3 * iwae.stderr
    assert abs(iwae.value - truth) < 0.2 * (truth - elbo)
    # from the guide, 100 temperatures suffice where the prior needs about 1000
    assert annealed.value == pytest.approx(truth, abs=TOLERANCE / 2), str(annealed)


def wrong_site(x):
    pyro.sample("nu", dist.Normal(x.new_tensor(0.0), 1.0))


def unbatched(x):
    # ignores the plate of chains: one draw for every chain
    pyro.sample("mu", dist.Normal(x.new_zeros(1), 1.0).to_event(1).expand(()).mask(True))


def failing(x):
    raise RuntimeError("shape mismatch\nsecond line")


@pytest.mark.parametrize(("guide", "match"), [
    (wrong_site, r"guide samples \['nu'\] but the model's latent sites are \['mu'\]"),
    (AutoDelta(normal_mean_model), "point mass"),
    (failing, "does not run on this data .RuntimeError: shape mismatch."),
    (unbatched, "the guide's site 'mu' has shape"),
])
def test_guides_that_cannot_start_the_chains_are_one_line_errors(guide, match):
    with pytest.raises(EvidenceError, match=match) as caught:
        evidence(normal_mean_model, data("normal mean"), guide=guide, steps=2, chains=8)
    assert "\n" not in str(caught.value)


def test_a_guide_that_is_not_callable_is_a_type_error():
    with pytest.raises(TypeError, match="guide must be a Pyro guide"):
        evidence(normal_mean_model, data("normal mean"), guide="AutoNormal", steps=2)


def test_an_autoguide_of_another_model_is_refused():
    other = fitted(AutoNormal, CASES["bayesian regression"][0], data("bayesian regression"))
    with pytest.raises(EvidenceError, match="set up on a model with latents .* not this model"):
        evidence(normal_mean_model, data("normal mean"), guide=other, steps=2, chains=8)


def test_the_guide_start_follows_the_datas_dtype():
    x = data("normal mean").float()
    estimate = evidence(normal_mean_model, x, guide=exact_posterior_guide, steps=2, chains=8)
    assert estimate.log_weights.dtype == torch.float32


def weights_and_means(x):
    weights = pyro.sample("weights", dist.Dirichlet(x.new_ones(3)))  # 2 unconstrained
    means = pyro.sample("means", dist.Normal(x.new_zeros(2), 1.0).to_event(1))
    with pyro.plate("data", len(x)):
        pyro.sample("x", dist.Normal((weights[..., :2] * means).sum(-1, keepdim=True), 1.0)
                    .to_event(1), obs=x)


@pytest.mark.parametrize("guide_class", [AutoNormal, AutoMultivariateNormal])
def test_packed_guides_are_read_through_their_public_attributes(guide_class):
    x = torch.randn(6, 1, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    guide = guide_class(weights_and_means)
    guide(x)
    with pyro.validation_enabled(False):
        latents = ModelLatents(weights_and_means, x, 5, guide)
    assert latents.size == 4 and latents.draw(5).shape == (5, 1, 4)
    density = latents.start.density
    assert density.event_shape == (4,)
    if guide_class is AutoNormal:  # the flat Normal is the guide's locs and scales in order
        assert torch.equal(density.base_dist.loc,
                           torch.cat([guide.locs.weights, guide.locs.means]).detach())
        assert torch.equal(density.base_dist.scale,
                           torch.cat([guide.scales.weights, guide.scales.means]).detach())
    else:
        assert guide.latent_dim == 4
