"""Every estimate of the face takes ``seed=``: the same seed, the same numbers to the bit."""

import pyro
import pyro.distributions as dist
import pytest
import torch

import pvae
from pvae.data import binarize, digits


@pytest.fixture(scope="module")
def vae_and_data():
    pyro.clear_param_store()
    vae = pvae.VAE((64,), 3, encoder={"name": "mlp", "hidden": [16]},
                   decoder={"name": "mlp", "hidden": [16]}, seed=0)
    return vae, binarize(digits().test[:24], "static", seed=0)


def normal_mean(x):
    mu = pyro.sample("mu", dist.Normal(x.new_tensor(0.0), 2.0))
    with pyro.plate("data", len(x)):
        pyro.sample("x", dist.Normal(mu, 1.0), obs=x)


def normal_mean_wide(x):
    mu = pyro.sample("mu", dist.Normal(x.new_tensor(0.0), 5.0))
    with pyro.plate("data", len(x)):
        pyro.sample("x", dist.Normal(mu, 1.0), obs=x)


Y = torch.linspace(-1.0, 2.0, 12, dtype=torch.float64)

#: name -> (call taking the pair/data and a seed, what to compare)
ESTIMATES = {
    "elbo": lambda v, x, s: pvae.elbo(v, x, seed=s).per_datapoint,
    "iwae": lambda v, x, s: pvae.iwae(v, x, 5, seed=s).per_datapoint,
    "iwae_ladder": lambda v, x, s: pvae.iwae_ladder(v, x, (1, 4), seed=s)[1][1].per_datapoint,
    "score": lambda v, x, s: pvae.score(v, x, (1, 3), seed=s).iwae[1].per_datapoint,
    "ais": lambda v, x, s: pvae.ais(v, x, steps=4, chains=2, seed=s).per_datapoint,
    "bdmc": lambda v, x, s: pvae.bdmc(v, 6, steps=4, chains=2, ks=(2,), seed=s).upper
    .per_datapoint,
    "gaps": lambda v, x, s: pvae.gaps(v, x, steps=3, ais_steps=3, seed=s).local_elbo
    .per_datapoint,
    "latent_usage": lambda v, x, s: torch.tensor(pvae.latent_usage(v, x, seed=s)
                                                 .mutual_information),
    "holes": lambda v, x, s: pvae.holes(v, x, draws=50, paths=5, seed=s).codes,
    "evidence": lambda v, x, s: pvae.evidence(normal_mean, Y, steps=8, chains=16,
                                              seed=s).log_weights,
    "evidence_bdmc": lambda v, x, s: pvae.evidence_bdmc(normal_mean, Y, steps=8, chains=16,
                                                        seed=s).lower.log_weights,
    "bayes_factors": lambda v, x, s: torch.tensor([
        row.evidence.value for row in pvae.bayes_factors(
            {"narrow": normal_mean, "wide": normal_mean_wide}, Y, steps=8, chains=16,
            seed=s)]),
}


@pytest.mark.filterwarnings("ignore::pvae.EvidenceWarning")  # short runs: seeds, not bias
@pytest.mark.parametrize("name", ESTIMATES)
def test_the_same_seed_gives_the_same_numbers_and_leaves_the_caller_alone(name,
                                                                           vae_and_data):
    vae, x = vae_and_data
    call = ESTIMATES[name]
    state = torch.get_rng_state()
    first = call(vae, x, 11)
    assert torch.equal(state, torch.get_rng_state())  # the caller's stream is untouched
    torch.rand(5)  # the global generator moves on: the seed alone decides
    assert torch.equal(call(vae, x, 11), first)
    assert not torch.equal(call(vae, x, 12), first)


@pytest.mark.parametrize("name", ["elbo", "ais", "latent_usage"])
def test_without_a_seed_the_global_generator_decides(name, vae_and_data):
    vae, x = vae_and_data
    call = ESTIMATES[name]
    pyro.set_rng_seed(4)
    first = call(vae, x, None)
    assert not torch.equal(call(vae, x, None), first)  # the stream moved on
    pyro.set_rng_seed(4)
    assert torch.equal(call(vae, x, None), first)


@pytest.mark.parametrize("name", ["iwae", "ais", "evidence"])
def test_a_bad_seed_is_refused(name, vae_and_data):
    with pytest.raises(ValueError, match="seed must be None or an integer"):
        ESTIMATES[name](*vae_and_data, -3)
