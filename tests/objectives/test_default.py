"""The lean ELBO computes Trace_ELBO's value and gradient, and says when it cannot."""

import pyro
import pyro.distributions as dist
import pytest
import torch
from pyro.infer import Trace_ELBO

import pvae
from pvae.data import binarize, digits
from pvae.guides import guides
from pvae.likelihoods import likelihoods
from pvae.objectives.default import CheckedTrace_ELBO, EagerPathWarning
from pvae.priors import priors

PARTS = [(prior, likelihood, guide) for prior in priors.names()
         for likelihood in likelihoods.names() for guide in guides.names()
         if not (prior == "vamp" and guide == "delta")]


def value_and_grads(objective, pair, x, **kwargs):
    torch.manual_seed(1)
    for parameter in pair.parameters():
        parameter.grad = None
    loss = objective.loss_and_grads(pair.model, pair.guide, x, **kwargs)
    return loss, [p.grad.clone() for p in pair.parameters() if p.grad is not None]


@pytest.mark.parametrize(("prior", "likelihood", "guide"), PARTS, ids="-".join)
def test_the_same_value_and_gradient_as_trace_elbo(prior, likelihood, guide):
    vae = pvae.VAE((64,), 3, prior=prior, guide=guide, likelihood=likelihood,
                   encoder={"name": "mlp", "hidden": [8]},
                   decoder={"name": "mlp", "hidden": [8]}).double()
    x = digits(torch.float64).test[:37]  # a partial batch of a data set of 500
    x = x.round() if likelihood == "bernoulli" else x.clamp(0, 1)
    vae.kl_weight = 0.3  # a warm-up's KL weight reaches both the same way
    lean = CheckedTrace_ELBO(max_plate_nesting=1)
    lean.loss(vae.model, vae.guide, x, num_data=500)  # the first call decides the path
    assert lean.lean, lean.eager_reason
    lean_loss, lean_grads = value_and_grads(lean, vae, x, num_data=500)
    eager_loss, eager_grads = value_and_grads(Trace_ELBO(), vae, x, num_data=500)
    assert lean_loss == pytest.approx(eager_loss, rel=1e-12, abs=1e-9)
    assert len(lean_grads) == len(eager_grads) > 0
    for ours, theirs in zip(lean_grads, eager_grads, strict=True):
        torch.testing.assert_close(ours, theirs, rtol=1e-10, atol=1e-10)
    differentiable = lean.differentiable_loss(vae.model, vae.guide, x, num_data=500)
    assert differentiable.requires_grad and torch.isfinite(differentiable)


def test_fit_on_the_lean_path_follows_the_eager_one():
    x = binarize(digits().train[:300])
    runs = []
    for objective in ("elbo", Trace_ELBO(max_plate_nesting=1)):
        torch.manual_seed(0)
        vae = pvae.VAE((64,), 2, objective=objective, encoder={"name": "mlp", "hidden": [16]},
                       decoder={"name": "mlp", "hidden": [16]})
        runs.append(pvae.fit(vae, x, epochs=3, batch_size=128, kl_warmup=4, seed=0,
                             progress=False).losses)
    assert type(vae.objective()) is Trace_ELBO
    torch.testing.assert_close(torch.tensor(runs[0]), torch.tensor(runs[1]), rtol=1e-4,
                               atol=0)


def discrete_latent(x):
    """A latent coin the guide cannot reparameterise: its gradient needs a score function."""
    with pyro.plate("data", len(x)):
        coin = pyro.sample("coin", dist.Bernoulli(x.new_full((len(x),), 0.5)))
        pyro.sample("x", dist.Normal(coin, 1.0), obs=x)


def discrete_guide(x):
    probability = pyro.param("probability", x.new_tensor(0.3),
                             constraint=dist.constraints.unit_interval)
    with pyro.plate("data", len(x)):
        pyro.sample("coin", dist.Bernoulli(probability.expand(len(x))))


def continuous_latent(x):
    with pyro.plate("data", len(x)):
        code = pyro.sample("code", dist.Normal(x.new_zeros(len(x)), 1.0))
        pyro.sample("x", dist.Normal(code, 1.0), obs=x)


def empty_guide(x):
    pass


@pytest.mark.parametrize(("model", "guide", "reason"), [
    (discrete_latent, discrete_guide, "'coin' .* has no rsample"),
    (continuous_latent, empty_guide, "latent site 'code' is not sampled by the guide"),
], ids=["score-function", "missing-latent"])
@pytest.mark.filterwarnings("ignore:Found vars in model but not guide")  # Pyro's own word
def test_a_pair_it_cannot_take_stays_eager_and_says_why_once(model, guide, reason):
    x = torch.randn(20)
    lean = CheckedTrace_ELBO()
    with pytest.warns(EagerPathWarning, match=reason):
        lean.loss(model, guide, x)
    assert not lean.lean and lean.eager_reason
    pyro.set_rng_seed(3)
    ours = lean.loss(model, guide, x)  # no second warning (warnings are errors here)
    pyro.set_rng_seed(3)
    assert ours == Trace_ELBO().loss(model, guide, x)


def test_several_particles_stay_eager():
    assert not CheckedTrace_ELBO(num_particles=4).lean


def test_plain_pyro_svi_trains_with_it():
    from pyro.infer import SVI
    from pyro.optim import Adam

    vae = pvae.VAE((64,), 2, encoder={"name": "mlp", "hidden": [8]},
                   decoder={"name": "mlp", "hidden": [8]})
    x = binarize(digits().train[:64])
    before = [p.detach().clone() for p in vae.parameters()]
    svi = SVI(vae.model, vae.guide, Adam({"lr": 1e-2}), CheckedTrace_ELBO())
    losses = [svi.step(x) for _ in range(5)]
    assert all(torch.isfinite(torch.tensor(losses)))
    assert all(not torch.equal(a, b) for a, b in zip(before, vae.parameters(), strict=True))


def test_masked_and_tensor_scaled_sites_are_scored_as_trace_elbo_scores_them():
    """Sites with a mask or a tensor scale are not grouped by scale; they are still right."""
    keep = torch.tensor([True, True, False, True, False, True])
    weights = torch.linspace(0.5, 2.0, 6, dtype=torch.float64)

    def model(x):
        with pyro.plate("rows", 6), pyro.poutine.mask(mask=keep):
            z = pyro.sample("z", dist.Normal(torch.zeros_like(x), 1.0))
        with pyro.plate("rows_again", 6), pyro.poutine.scale(scale=weights):
            pyro.sample("x", dist.Normal(z, 0.5), obs=x)

    def guide(x):
        loc = pyro.param("masked_test_loc", lambda: torch.zeros(6, dtype=torch.float64))
        with pyro.plate("rows", 6), pyro.poutine.scale(scale=3.0):
            pyro.sample("z", dist.Normal(loc, 1.0))

    x = torch.linspace(-1, 1, 6, dtype=torch.float64)
    lean = CheckedTrace_ELBO()
    lean.loss(model, guide, x)
    assert lean.lean
    loc = pyro.param("masked_test_loc").unconstrained()
    results = []
    for objective in (lean, Trace_ELBO()):
        pyro.set_rng_seed(5)
        loc.grad = None
        results.append((objective.loss_and_grads(model, guide, x), loc.grad.clone()))
    (ours, our_grad), (theirs, their_grad) = results
    assert ours == pytest.approx(theirs, rel=1e-12)
    torch.testing.assert_close(our_grad, their_grad, rtol=1e-12, atol=1e-12)


def test_num_particles_is_checked_and_several_are_said_once():
    with pytest.raises(ValueError, match="num_particles must be a positive integer"):
        CheckedTrace_ELBO(num_particles=0)
    with pytest.raises(ValueError, match="num_particles must be a positive integer"):
        CheckedTrace_ELBO(num_particles=2.5)
    lean = CheckedTrace_ELBO(num_particles=3)
    with pytest.warns(EagerPathWarning, match="3 particles"):
        lean.loss(continuous_latent, continuous_guide, torch.randn(5))
    lean.loss(continuous_latent, continuous_guide, torch.randn(5))  # said once


def continuous_guide(x):
    loc = pyro.param("cg_loc", lambda: torch.zeros(len(x)))
    with pyro.plate("data", len(x)):
        pyro.sample("code", dist.Normal(loc, 1.0))


def test_a_leaf_that_is_not_a_parameter_gets_no_gradient():
    leaf = torch.tensor(0.5, requires_grad=True)

    def model(x):
        with pyro.plate("data", len(x)):
            pyro.sample("x", dist.Normal(leaf, 1.0), obs=x)

    lean = CheckedTrace_ELBO()
    for _ in range(3):
        lean.loss_and_grads(model, empty_guide, torch.randn(4))
    assert lean.lean_calls == 3 and leaf.grad is None  # Trace_ELBO: no parameter, no backward


class TraceELBOPair(pvae.Pair):
    """The same pair, trained on Pyro's own Trace_ELBO by pvae.fit."""

    def objective(self):
        return Trace_ELBO()


def bits_model(x):
    p = pyro.sample("p", dist.Beta(2.0, 2.0))
    with pyro.plate("data", len(x)):
        pyro.sample("x", dist.Bernoulli(p), obs=x)


def bits_guide(x):
    a = pyro.param("bits_a", torch.tensor(2.0), constraint=dist.constraints.positive)
    b = pyro.param("bits_b", torch.tensor(2.0), constraint=dist.constraints.positive)
    pyro.sample("p", dist.Beta(a, b))


def test_fit_on_foreign_pairs_follows_trace_elbo_step_by_step(float64):
    # in float64, as every equality of the fast path is checked: in float32 the two objectives
    # may round a sum in another order, one ulp apart (seen on some CPUs)
    from pyro.infer.autoguide import AutoNormal

    from .pyro_pairs import (
        local_guide,
        local_model,
        masked_observation_guide,
        masked_observation_model,
        reparam_model,
    )

    x = torch.linspace(-1.5, 1.5, 10, dtype=torch.float64)
    pairs = [(local_model, lambda: local_guide),
             (masked_observation_model, lambda: masked_observation_guide),
             (reparam_model, lambda: AutoNormal(reparam_model)), (bits_model, lambda: bits_guide)]
    for model, make_guide in pairs:
        data = (x > 0).double() if model is bits_model else x
        runs = []
        for kind in (pvae.Pair, TraceELBOPair):
            pyro.clear_param_store()
            runs.append(pvae.fit(kind(model, make_guide()), data, steps=30, lr=0.05, seed=0,
                                 progress=False).losses)
        torch.testing.assert_close(torch.tensor(runs[0]), torch.tensor(runs[1]), rtol=1e-9,
                                   atol=1e-9)


def test_a_guide_messenger_trains_on_trace_elbo_and_finds_the_posterior():
    from pyro.infer.autoguide import AutoNormalMessenger

    def model(x):
        mu = pyro.sample("mu", dist.Normal(0.0, 3.0))
        with pyro.plate("data", len(x)):
            pyro.sample("x", dist.Normal(mu, 1.0), obs=x)

    x = torch.tensor([3.0, 4.0, 5.0])
    guide = AutoNormalMessenger(model)
    with pytest.warns(EagerPathWarning, match="GuideMessenger"):
        pvae.fit(pvae.Pair(model, guide), x, steps=1500, lr=0.02, seed=0, progress=False)
    precision = 1 / 9 + 3  # the conjugate posterior of mu
    with torch.no_grad():
        mean = float(guide.median(x)["mu"])
    assert mean == pytest.approx(12 / precision, abs=0.1)


def test_a_minibatch_out_of_support_raises_however_late():
    x = torch.ones(40)
    x[35] = 0.5  # in the last minibatch only
    with pytest.raises(ValueError, match="support"):
        pvae.fit(pvae.Pair(bits_model, bits_guide), x, epochs=2, batch_size=10, seed=0,
                 progress=False)


@pytest.mark.parametrize("kind", ["AutoNormal", "AutoDiagonalNormal"])
def test_every_call_of_an_autoguide_draws_trace_elbos_numbers_the_first_included(kind, float64):
    """An autoguide sets itself up from the prior in its first call, inside Trace_ELBO's run."""
    from pyro.infer import autoguide

    def model(x):
        loc = pyro.sample("loc", dist.Normal(0.0, 1.0))
        with pyro.plate("data", len(x)):
            pyro.sample("x", dist.Normal(loc, 1.0), obs=x)

    x = torch.linspace(-1.0, 2.0, 10)
    runs = []
    for objective in (Trace_ELBO(max_plate_nesting=1), CheckedTrace_ELBO(max_plate_nesting=1)):
        pyro.clear_param_store()
        torch.manual_seed(0)
        guide = getattr(autoguide, kind)(model)
        runs.append([objective.loss(model, guide, x) for _ in range(3)] + [torch.rand(())])
    assert runs[0] == runs[1]  # to the bit, and the random stream after them too
    assert objective.lean_calls == 2 and objective.eager_calls == 1  # (the set-up call)
