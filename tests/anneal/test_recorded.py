"""AIS's recorded potential: bitwise the eager one wherever it records, refused elsewhere."""

import importlib

import pyro
import pyro.distributions as dist
import pytest
import torch
from pyro import poutine
from pyro.infer.autoguide import AutoMultivariateNormal, AutoNormal

import pvae
from pvae.anneal.potential import energy_and_gradient
from pvae.anneal.recorded import RecordedPotential, RecordingWarning, worth_recording
from pvae.bayes import evidence
from pvae.bayes.model_latents import ModelLatents

from ..bayes.test_discrete import X as DISCRETE_X
from ..bayes.test_discrete import shifted_prior
from ..bayes.test_evidence import CASES, data

recorded_module = importlib.import_module("pvae.anneal.recorded")
CHAINS = 7


# Models written the way Pyro's own HMC tests write theirs (tests/infer/mcmc/test_hmc.py),
# in the forms evidence accepts: a plate at dim -2 over coins with a batch of two, a
# logistic regression with a pyro.param in the model, and a hierarchy with local latents.
def two_coins(x):
    p = pyro.sample("p", dist.Beta(x.new_tensor([1.1, 1.1]), x.new_tensor([1.1, 1.1])))
    with pyro.plate("data", x.shape[0], dim=-2):
        pyro.sample("obs", dist.Bernoulli(p), obs=x)


def logistic_regression(x):
    features, labels = x[:, :3], x[:, 3]
    mean = pyro.param("coefs_mean", features.new_zeros(3))
    coefs = pyro.sample("beta", dist.Normal(mean, 1.0).to_event(1))
    with pyro.plate("data", len(x)):
        pyro.sample("y", dist.Bernoulli(logits=(coefs * features).sum(-1)), obs=labels)


def schools(x):
    mu = pyro.sample("mu", dist.Normal(x.new_tensor(0.0), 5.0))
    tau = pyro.sample("tau", dist.HalfCauchy(x.new_tensor(5.0)))
    with pyro.plate("school", len(x)):
        theta = pyro.sample("theta", dist.Normal(mu, tau))
        pyro.sample("y", dist.Normal(theta, 10.0), obs=x)


def masked_and_scaled(x):
    scale = pyro.sample("scale", dist.LogNormal(x.new_tensor(0.0), 1.0))
    weight = pyro.deterministic("weight", 2.0 * scale)
    with pyro.plate("data", len(x)), poutine.scale(scale=0.5):
        with poutine.mask(mask=x > 0):
            pyro.sample("x", dist.Normal(weight, scale), obs=x)


def dirichlet_mixture_weights(x):
    weights = pyro.sample("weights", dist.Dirichlet(x.new_ones(3)))
    locs = x.new_tensor([-2.0, 0.0, 2.0])
    with pyro.plate("data", len(x)):
        components = dist.Normal(locs.expand(weights.shape), 1.0)
        pyro.sample("x", dist.MixtureSameFamily(dist.Categorical(weights), components), obs=x)


def foreign_data(name, dtype):
    generator = torch.Generator().manual_seed(1)
    if name == "two coins":
        return (torch.rand(40, 2, generator=generator) < torch.tensor([0.9, 0.1])).to(dtype)
    if name == "logistic regression":
        features = torch.randn(30, 3, generator=generator)
        labels = (torch.rand(30, generator=generator) < torch.sigmoid(features.sum(-1))).float()
        return torch.cat([features, labels[:, None]], -1).to(dtype)
    if name == "schools":
        return torch.tensor([28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0], dtype=dtype)
    return (torch.randn(25, generator=generator) + 1.0).to(dtype)


FOREIGN = {"two coins": two_coins, "logistic regression": logistic_regression,
           "schools": schools, "masked and scaled": masked_and_scaled,
           "dirichlet mixture weights": dirichlet_mixture_weights}


def programs():
    """(name, model, data, guide) for every kind of model evidence anneals."""
    for name, (model, _) in CASES.items():
        yield name, model, data(name), None
    for family in ("normal", "student_t"):
        yield f"BayesianGaussian {family}", pvae.BayesianGaussian(family).model, \
            2.0 + torch.randn(30, generator=torch.Generator().manual_seed(4),
                              dtype=torch.float64), None
    yield "discrete value fixed", poutine.condition(
        shifted_prior, data={"c": torch.tensor(2)}), DISCRETE_X, None
    for name, model in FOREIGN.items():
        yield name, model, foreign_data(name, torch.float64), None
    for guide_class in (AutoNormal, AutoMultivariateNormal):
        model = CASES["bayesian regression"][0]
        yield f"guide {guide_class.__name__}", model, data("bayesian regression"), guide_class


PROGRAMS = {name: rest for name, *rest in programs()}


def latents_of(name, dtype=torch.float64):
    model, x, guide_class = PROGRAMS[name]
    x = x.to(dtype)
    guide = None
    if guide_class is not None:
        guide = guide_class(model)
        guide(x)  # sets up its parameters at their initial values
    return ModelLatents(model, x, CHAINS, guide)


@pytest.fixture(autouse=True)
def as_evidence_runs():
    """Without Pyro's argument checks, as pvae.evidence runs a model's potential."""
    with pyro.validation_enabled(False):
        yield


@pytest.mark.parametrize("name", PROGRAMS)
def test_the_replay_is_the_eager_potential_to_the_bit(name):
    latents = latents_of(name)
    start = latents.draw(CHAINS)
    recorded = RecordedPotential.record(latents.ends, start, "test")
    assert recorded is not None
    generator = torch.Generator().manual_seed(0)
    for beta in (0.0, 1e-6, 0.37, 1.0):
        z = start + 0.3 * torch.randn(start.shape, generator=generator, dtype=start.dtype)
        cold, hot = z.new_tensor(1 - beta), z.new_tensor(beta)
        eager = energy_and_gradient(latents.ends, z, cold, hot)
        replayed = recorded(z, cold, hot)
        for got, want in zip(replayed, eager, strict=True):
            assert torch.equal(got, want), (name, beta, (got - want).abs().max())


@pytest.mark.parametrize("name", ["normal-inverse-gamma", "schools", "two coins"])
def test_in_float32_too(name):
    latents = latents_of(name, torch.float32)
    z = latents.draw(CHAINS) + 0.1
    cold, hot = z.new_tensor(1 - 0.61), z.new_tensor(0.61)
    recorded = RecordedPotential.record(latents.ends, z, "test")
    assert recorded is not None
    eager = energy_and_gradient(latents.ends, z, cold, hot)
    for got, want in zip(recorded(z, cold, hot), eager, strict=True):
        assert got.dtype == torch.float32 and torch.equal(got, want)


def test_a_recorded_run_is_the_eager_run_to_the_bit(monkeypatch):
    model, _ = CASES["normal-inverse-gamma"]
    x = data("normal-inverse-gamma")
    eager = evidence(model, x, steps=30, chains=64, seed=3, check_convergence=False)
    monkeypatch.setattr(recorded_module, "RECORD_FROM", 1)
    calls = []
    original = RecordedPotential.record.__func__
    monkeypatch.setattr(RecordedPotential, "record", classmethod(
        lambda cls, *args: calls.append(args) or original(cls, *args)))
    replayed = evidence(model, x, steps=30, chains=64, seed=3, check_convergence=False)
    assert len(calls) == 1
    assert torch.equal(replayed.log_weights, eager.log_weights)
    assert replayed.acceptance == eager.acceptance


def test_short_runs_are_not_recorded(monkeypatch):
    def refuse(*args):
        raise AssertionError("a short run recorded its potential")

    monkeypatch.setattr(RecordedPotential, "record", refuse)
    model, _ = CASES["normal mean"]
    evidence(model, data("normal mean"), steps=20, chains=8)
    assert not worth_recording(20, 10) and worth_recording(1000, 10)


def branches_on_a_latent(x):
    mu = pyro.sample("mu", dist.Normal(x.new_tensor(0.0), 2.0))
    spread = 1.0 if mu.mean() > 0 else 2.0
    with pyro.plate("data", len(x)):
        pyro.sample("x", dist.Normal(mu, spread), obs=x)


def draws_inside(x):
    mu = pyro.sample("mu", dist.Normal(x.new_tensor(0.0), 2.0))
    with pyro.plate("data", len(x)):
        pyro.sample("x", dist.Normal(mu + 1e-3 * torch.randn_like(x), 1.0), obs=x)


OFFSET = torch.zeros(1, dtype=torch.float64)


def writes_in_place(x):
    # each run moves a tensor the model closes over: a replay would not
    mu = pyro.sample("mu", dist.Normal(x.new_tensor(0.0), 2.0))
    OFFSET.add_(1e-9)
    with pyro.plate("data", len(x)):
        pyro.sample("x", dist.Normal(mu + OFFSET, 1.0), obs=x)


def selects_by_value(x):
    mu = pyro.sample("mu", dist.Normal(x.new_tensor(0.0), 2.0))
    with pyro.plate("data", len(x)):
        pyro.sample("x", dist.Normal(mu, 1.0), obs=x)
    pyro.factor("tail", -(mu[mu > 3.0] - 3.0).sum())


@pytest.mark.parametrize(("model", "match"), [
    (branches_on_a_latent, "reads a value it computes"),
    (draws_inside, "draws random numbers"),
    (writes_in_place, "writes in place into its input"),
    (selects_by_value, "shape that depends on the values"),
])
def test_what_a_replay_cannot_reproduce_runs_eagerly_and_says_why(model, match, monkeypatch):
    x = data("normal mean")
    latents = ModelLatents(model, x, CHAINS)
    with pytest.warns(RecordingWarning, match=f"runs the potential eagerly.*{match}"):
        assert RecordedPotential.record(latents.ends, latents.draw(CHAINS), "m") is None
    if model in (draws_inside, writes_in_place):
        return  # its eager runs differ from each other too: there is no run to repeat
    eager = evidence(model, x, steps=12, chains=16, seed=0, check_convergence=False)
    monkeypatch.setattr(recorded_module, "RECORD_FROM", 1)
    with pytest.warns(RecordingWarning, match=match):
        fallen_back = evidence(model, x, steps=12, chains=16, seed=0, check_convergence=False)
    assert torch.equal(fallen_back.log_weights, eager.log_weights)


def test_a_replay_that_disagrees_is_refused(monkeypatch):
    latents = latents_of("normal mean")
    z = latents.draw(CHAINS)
    monkeypatch.setattr(recorded_module, "_fold_constants", lambda graph: _plant_error(graph))
    with pytest.warns(RecordingWarning, match="its energy differs from the eager run's by"):
        assert RecordedPotential.record(latents.ends, z, "planted") is None


def _plant_error(graph):
    output = next(node for node in graph.graph.nodes if node.op == "output")
    energy = output.args[0][0]
    with graph.graph.inserting_before(output):
        shifted = graph.graph.call_function(torch.ops.aten.add.Tensor, (energy, 1e-6))
    output.args = ((shifted, *output.args[0][1:]),)
    graph.recompile()


def correlated_pair(x):
    # a correlation with a prior that reaches past 1: there the covariance is not positive
    # definite, and its Cholesky factorisation raises
    rho = pyro.sample("rho", dist.Normal(x.new_tensor(0.0), 0.3))
    one = torch.ones_like(rho)
    covariance = torch.stack([torch.stack([one, rho], -1), torch.stack([rho, one], -1)], -2)
    with pyro.plate("data", len(x)):
        pyro.sample("x", dist.MultivariateNormal(x.new_zeros(2), covariance), obs=x)


@pytest.mark.filterwarnings("ignore::pvae.EvidenceWarning")  # 16 chains, 30 steps: rough
def test_a_singular_matrix_at_a_proposal_is_a_rejected_move_in_both_modes(monkeypatch):
    kernel = importlib.import_module("pvae.anneal.kernel")
    x = dist.MultivariateNormal(torch.zeros(2, dtype=torch.float64), torch.tensor(
        [[1.0, 0.97], [0.97, 1.0]], dtype=torch.float64)).sample((50,))
    failures = []
    trajectory = kernel.trajectory

    def counted(*args):
        end = trajectory(*args)
        failures.append(end is None)
        return end

    monkeypatch.setattr(kernel, "trajectory", counted)
    eager = evidence(correlated_pair, x, steps=30, chains=16, seed=0, check_convergence=False)
    monkeypatch.setattr(recorded_module, "RECORD_FROM", 1)
    replayed = evidence(correlated_pair, x, steps=30, chains=16, seed=0, check_convergence=False)
    assert any(failures[:29]) and failures[:29] == failures[29:]
    assert torch.equal(replayed.log_weights, eager.log_weights)
    assert torch.isfinite(eager.log_weights).all() and eager.acceptance < 0.9
