import itertools

import pyro
import pytest
import torch
from pyro import poutine
from pyro.infer import SVI, Trace_ELBO
from pyro.optim import Adam
from pyro.poutine.util import site_is_subsample

import pvae
from pvae import VAE, DataError, UnknownNameError
from pvae.data import binarize, digits, dynamic_binarization
from pvae.guides import guides
from pvae.likelihoods import likelihoods
from pvae.pair import unit_kl_weight
from pvae.priors import priors

SMALL = {"encoder": {"name": "mlp", "hidden": [32]}, "decoder": {"name": "mlp", "hidden": [32]}}


@pytest.fixture(scope="module")
def images():
    return digits().train[:512]


def data_for(likelihood, images):
    return binarize(images, "static") if likelihood == "bernoulli" else images


COMBINATIONS = [
    (p, lik, g)
    for p, lik, g in itertools.product(priors.names(), likelihoods.names(), guides.names())
    if not (p == "vamp" and g == "delta")
]


@pytest.mark.parametrize(("prior", "likelihood", "guide"), COMBINATIONS,
                         ids=["-".join(c) for c in COMBINATIONS])
def test_every_combination_trains(prior, likelihood, guide, images):
    vae = VAE((64,), 4, prior=prior, likelihood=likelihood, guide=guide, **SMALL)
    x = data_for(likelihood, images)
    result = pvae.fit(vae, x, steps=80, lr=1e-2, seed=0, progress=False)
    losses = torch.tensor(result.losses)
    assert torch.isfinite(losses).all()
    assert losses[-10:].mean() < losses[:10].mean() - 0.5  # nats per datapoint


def test_the_issue_example_fits_on_the_digits_and_on_mnist():
    from pvae.data import MNISTNotFoundError, mnist

    vae = VAE(x_shape=(784,), z_dim=16, prior="vamp", likelihood="continuous_bernoulli")
    try:
        x = mnist("../shared/data/mnist").train[:512]
    except MNISTNotFoundError:
        x = torch.nn.functional.interpolate(  # the digits, upsampled to 28x28
            digits().train[:512].reshape(-1, 1, 8, 8), size=(28, 28)).reshape(-1, 784)
    result = pvae.fit(vae, x, epochs=2, batch_size=128, lr=1e-3, seed=0, progress=False)
    assert result.losses[-1] < result.losses[0]
    small = VAE(x_shape=(64,), z_dim=16, prior="vamp", likelihood="continuous_bernoulli")
    assert pvae.fit(small, digits().train, epochs=1, batch_size=256, progress=False).steps == 6


def test_vamp_prior_needs_a_guide_with_a_density():
    with pytest.raises(ValueError, match="VampPrior .* 'normal' or 'flow' guide"):
        VAE((64,), 4, prior="vamp", guide="delta")


def test_plain_pyro_svi_trains_the_pair(images):
    vae = VAE((64,), 4, **SMALL)
    x = binarize(images)
    svi = SVI(vae.model, vae.guide, Adam({"lr": 1e-2}), Trace_ELBO())
    losses = [svi.step(x) / len(x) for _ in range(100)]
    assert sum(losses[-10:]) / 10 < sum(losses[:10]) / 10 - 2


@pytest.mark.parametrize("guide", guides.names())
def test_model_and_guide_agree_on_their_sites(guide, images):
    vae = VAE((64,), 3, guide=guide, **SMALL)
    x = binarize(images[:10])
    guide_trace = poutine.trace(vae.guide).get_trace(x)
    model_trace = poutine.trace(poutine.replay(vae.model, trace=guide_trace)).get_trace(x)
    def latent(trace):
        return {name for name, site in trace.nodes.items()
                if site["type"] == "sample" and not site["is_observed"]
                and not site_is_subsample(site)}
    assert latent(guide_trace) == latent(model_trace) == {"z"}
    assert model_trace.nodes["x"]["is_observed"]
    assert model_trace.nodes["z"]["value"].shape == (10, 3)


def test_same_seed_same_losses(images):
    x = binarize(images)
    runs = []
    for _ in range(2):
        pyro.set_rng_seed(3)  # the seed also fixes the networks' initial weights
        vae = VAE((64,), 4, **SMALL)
        runs.append(pvae.fit(vae, x, epochs=2, batch_size=128, seed=3, progress=False).losses)
    assert runs[0] == runs[1]


def test_float64_stays_float64(images, dtype):
    vae = VAE((64,), 2, likelihood="gaussian", **SMALL)
    result = pvae.fit(vae, images.to(dtype), steps=5, progress=False)
    assert all(p.dtype == dtype for p in vae.parameters())
    assert vae.sample(3).dtype == dtype and all(map(lambda v: v == v, result.losses))


def test_minibatch_elbo_is_scaled_to_the_whole_data(images):
    vae = VAE((64,), 2, objective="meanfield", **SMALL)
    x = binarize(images)
    objective = vae.objective()
    with torch.no_grad():
        pyro.set_rng_seed(0)
        batch = objective.loss(vae.model, vae.guide, x[:64], num_data=len(x))
        pyro.set_rng_seed(0)
        unscaled = objective.loss(vae.model, vae.guide, x[:64])
    assert batch == pytest.approx(unscaled * len(x) / 64, rel=1e-5)


def test_kl_weight_scales_exactly_the_kl_term(images):
    vae = VAE((64,), 3, objective="meanfield", beta=4.0, **SMALL)
    x = binarize(images[:50])
    objective = vae.objective()

    def loss(weight):
        vae.kl_weight = weight
        pyro.set_rng_seed(1)
        with torch.no_grad():
            return objective.loss(vae.model, vae.guide, x)

    loc, scale = vae.encode(x)
    kl = 0.5 * (loc**2 + scale**2 - 1 - 2 * scale.log()).sum()
    # the reconstruction term is the same draw each time (same seed), so differences are KL
    assert loss(2.0) - loss(1.0) == pytest.approx(float(kl), rel=1e-4)
    assert loss(4.0) - loss(1.0) == pytest.approx(3 * float(kl), rel=1e-4)
    vae.kl_weight = 4.0
    with unit_kl_weight(vae):
        assert vae.kl_weight == 1.0
    assert vae.kl_weight == 4.0  # restored


def test_warm_up_ends_at_beta_and_validation_is_scored_each_epoch(images):
    vae = VAE((64,), 2, beta=0.5, **SMALL)
    result = pvae.fit(vae, images[:384], epochs=3, batch_size=128, kl_warmup=5,
                      transform=dynamic_binarization, validation=images[384:],
                      progress=False)
    assert vae.kl_weight == 0.5
    assert len(result.validation_losses) == 3 and result.steps == 9


def test_iwae_bound_is_tighter_than_the_elbo(images):
    vae = VAE((64,), 4, **SMALL)
    x = binarize(images[:200])
    pvae.fit(vae, x, steps=100, lr=1e-2, progress=False, seed=0)
    elbo = pvae.objectives.objectives.resolve("elbo")
    iwae = pvae.objectives.objectives.resolve({"name": "iwae", "k": 50})
    with torch.no_grad():
        elbo_loss = sum(elbo.loss(vae.model, vae.guide, x) for _ in range(10)) / 10
        iwae_loss = sum(iwae.loss(vae.model, vae.guide, x) for _ in range(10)) / 10
    assert iwae_loss < elbo_loss  # a larger lower bound: a smaller loss


def test_iwae_and_conv_train(images):
    vae = VAE((784,), 4, encoder="conv", decoder="conv", objective={"name": "iwae", "k": 3})
    x = torch.bernoulli(torch.rand(32, 784, generator=torch.Generator().manual_seed(0)))
    result = pvae.fit(vae, x, steps=3, batch_size=16, progress=False)
    assert len(result.losses) == 3 and all(torch.isfinite(torch.tensor(result.losses)))


def test_reconstruct_sample_encode(images):
    vae = VAE((64,), 5, **SMALL)
    assert vae.reconstruct(images[:7]).shape == (7, 64)
    assert vae.sample(4).shape == (4, 64)
    loc, scale = vae.encode(images[:7])
    assert loc.shape == scale.shape == (7, 5) and bool((scale > 0).all())
    assert bool(((vae.sample(4) >= 0) & (vae.sample(4) <= 1)).all())  # Bernoulli means


@pytest.mark.parametrize(
    ("likelihood", "data", "message"),
    [
        ("bernoulli", torch.full((4, 64), 2.0), r"binary data .*'continuous_bernoulli'"),
        ("bernoulli", torch.full((4, 64), 0.5), "Binarize it"),
        ("continuous_bernoulli", torch.full((4, 64), -1.0), r"needs data in \[0, 1\]"),
        ("gaussian", torch.full((4, 8, 8), 0.5), r"shape \(N, 64\).*flatten"),
        ("gaussian", torch.full((4, 64), float("nan")), "NaN"),
    ],
    ids=["above-one", "grey-for-bernoulli", "negative", "unflattened", "nan"],
)
def test_bad_data_is_refused_before_training(likelihood, data, message):
    vae = VAE((64,), 2, likelihood=likelihood, **SMALL)
    before = [p.clone() for p in vae.parameters()]
    with pytest.raises(DataError, match=message):
        pvae.fit(vae, data, steps=5, progress=False)
    assert all(torch.equal(a, b) for a, b in zip(before, vae.parameters(), strict=True))


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"z_dim": 0}, ValueError, "z_dim must be a positive integer"),
        ({"beta": 0.0}, ValueError, "beta must be positive"),
        ({"beta": float("inf")}, ValueError, "beta must be positive and finite"),
        ({"prior": "vampp"}, UnknownNameError, "Did you mean 'vamp'"),
        ({"likelihood": {"name": "gaussian", "sigma": 1}}, UnknownNameError, "no option 'sigma'"),
        ({"guide": "iaf"}, UnknownNameError, "Known guide names: delta, flow, normal"),
        ({"encoder": {"name": "mlp", "activation": "swish"}}, ValueError, "unknown activation"),
        ({"objective": "meanfield", "prior": "mog"}, ValueError, "closed-form KL"),
        ({"objective": "iwea"}, UnknownNameError, "Did you mean 'iwae'"),
        ({"likelihood": {"name": "gaussian", "scale": -1.0}}, ValueError, "must be positive"),
        ({"encoder": "conv"}, ValueError, "28x28"),
    ],
    ids=["z_dim", "beta", "beta-inf", "prior", "spec-key", "guide", "activation", "meanfield",
         "objective", "scale", "conv"],
)
def test_bad_parts_are_refused(options, error, message):
    arguments = {"x_shape": (64,), "z_dim": 2, **SMALL, **options}
    with pytest.raises(error, match=message):
        VAE(**arguments)


def test_a_ready_object_can_be_swapped_in():
    from pvae.likelihoods import Laplace
    from pvae.priors import MixtureOfGaussians

    vae = VAE((64,), 2, prior=MixtureOfGaussians(3), likelihood=Laplace(scale=0.1), **SMALL)
    assert isinstance(vae.model.prior, MixtureOfGaussians) and vae.model.prior.locs.shape == (3, 2)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_trains_on_cuda(images):
    vae = VAE((64,), 4, **SMALL)
    result = pvae.fit(vae, binarize(images), epochs=2, batch_size=128, device="cuda",
                      progress=False)
    assert next(vae.parameters()).device.type == "cuda" and result.device.startswith("cuda")
    assert vae.sample(2).device.type == "cuda"


@pytest.mark.parametrize("likelihood", ["bernoulli", "continuous_bernoulli", "gaussian"])
def test_samples_are_draws_of_the_likelihood_around_the_decoded_means(likelihood):
    from pvae.randomness import seeded

    vae = pvae.VAE((16,), 2, likelihood=likelihood, seed=0)
    with seeded(1):
        means = vae.sample(4000)
    with seeded(1):  # the same codes: draws scatter around their means
        draws = vae.sample(4000, mean=False)
    assert draws.shape == means.shape == (4000, 16)
    if likelihood == "bernoulli":
        assert set(draws.unique().tolist()) <= {0.0, 1.0}
    spread = (draws - means).std(0) / 4000**0.5
    assert ((draws - means).mean(0).abs() < 5 * spread).all()
    assert not torch.equal(draws, means)
    with pytest.raises(TypeError, match="mean must be"):
        vae.sample(3, mean="no")
