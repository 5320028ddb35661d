"""pvae.evidence_bdmc: the sandwich holds the exact evidence, and says when it is loose."""

import warnings

import pyro
import pyro.distributions as dist
import pytest
import torch

from pvae.bayes import EvidenceError, EvidenceWarning, evidence, evidence_bdmc

from .test_evidence import CASES, gamma_poisson_exact, gamma_poisson_model, vague_normal_mean


@pytest.mark.parametrize("name", ["beta-bernoulli", "normal mean"])
def test_the_bdmc_sandwich_holds_the_exact_evidence_and_narrows(name):
    model, exact = CASES[name]
    widths = []
    for steps in (4, 400):
        with warnings.catch_warnings():  # 4 steps may or may not be within 0.1 nats
            warnings.simplefilter("ignore" if steps == 4 else "error", EvidenceWarning)
            sandwich = evidence_bdmc(model, torch.zeros(30, dtype=torch.float64), steps=steps,
                                     chains=256, seed=1)
        truth = exact(sandwich.x)
        slack = 3 * (sandwich.lower.stderr + sandwich.upper.stderr)
        assert sandwich.lower.value <= truth + slack and sandwich.upper.value >= truth - slack
        widths.append(sandwich.width)
    # stochastic bounds: once tight, the width is zero within the two standard errors
    assert abs(widths[1]) < abs(widths[0]) and abs(widths[1]) < 0.1
    assert sandwich.converged  # and said nothing: warnings are errors here
    assert set(sandwich.latents) == {"p"} if name == "beta-bernoulli" else {"mu"}


def test_a_loose_sandwich_warns_with_its_width_and_the_fix():
    with pytest.warns(EvidenceWarning, match=r"NOT converged.*raise steps \(now 5\)"):
        sandwich = evidence_bdmc(vague_normal_mean, torch.zeros(30, dtype=torch.float64),
                                 steps=5, chains=64, seed=0)
    assert not sandwich.converged and sandwich.width > 1


def two_observations(x):
    mu = pyro.sample("mu", dist.Normal(x.new_tensor(0.0), 1.0))
    pyro.sample("a", dist.Normal(mu, 1.0), obs=x[0])
    pyro.sample("b", dist.Normal(mu, 1.0), obs=x[1])


def observes_twice_the_data(x):
    mu = pyro.sample("mu", dist.Normal(x.new_tensor(0.0), 1.0))
    with pyro.plate("data", len(x)):
        pyro.sample("x", dist.Normal(mu, 1.0), obs=2 * x)


def subsampled(x):
    mu = pyro.sample("mu", dist.Normal(x.new_tensor(0.0), 2.0))
    with pyro.plate("data", len(x), subsample_size=5) as rows:
        pyro.sample("x", dist.Normal(mu, 1.0), obs=x[rows])


def scaled(x):
    mu = pyro.sample("mu", dist.Normal(x.new_tensor(0.0), 2.0))
    with pyro.plate("data", len(x)), pyro.poutine.scale(scale=3.0):
        pyro.sample("x", dist.Normal(mu, 1.0), obs=x)


@pytest.mark.parametrize(("model", "match"), [
    (two_observations, "observes 2"),
    (observes_twice_the_data, "observes a function of its data at 'x'"),
    (subsampled, "the plate 'data' subsamples 5 of 20 datapoints"),
    (scaled, r"the site 'x' scales its log-density \(by 3.0\)"),
])
def test_what_cannot_be_sandwiched_is_refused_before_any_annealing(model, match):
    with pytest.raises(EvidenceError, match=match) as caught:
        evidence_bdmc(model, torch.zeros(20, dtype=torch.float64), steps=5)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("model", [subsampled, scaled])
def test_evidence_refuses_a_model_that_scores_part_of_its_data(model):
    with pytest.raises(EvidenceError, match="subsamples|scales its log-density"):
        evidence(model, torch.linspace(-1, 1, 20, dtype=torch.float64), steps=5)


def test_integer_counts_are_simulated_in_floating_point():
    counts = torch.tensor([1, 2, 0, 3, 1, 2, 4, 0, 1, 2])
    sandwich = evidence_bdmc(gamma_poisson_model, counts, steps=200, chains=256, seed=0)
    assert sandwich.x.is_floating_point() and sandwich.x.shape == counts.shape
    truth = gamma_poisson_exact(sandwich.x)
    slack = 3 * sandwich.width_stderr + 0.05
    assert sandwich.lower.value - slack <= truth <= sandwich.upper.value + slack
