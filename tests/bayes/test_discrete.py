"""Global discrete latents summed out exactly by pvae.evidence; local ones refused."""

import math

import pyro
import pyro.distributions as dist
import pytest
import torch

from pvae.bayes import EvidenceError, evidence, evidence_bdmc
from pvae.bayes.discrete import MAX_ASSIGNMENTS

X = 1.2 + torch.randn(15, generator=torch.Generator().manual_seed(2), dtype=torch.float64)


def which_mean(x):
    c = pyro.sample("c", dist.Bernoulli(x.new_tensor(0.3)))
    with pyro.plate("data", len(x)):
        pyro.sample("x", dist.Normal(2.0 * c, 1.0), obs=x)


def shifted_prior(x):
    # the continuous latent's prior depends on the discrete one: mu ~ N(1.5 c, 1)
    c = pyro.sample("c", dist.Categorical(x.new_tensor([0.5, 0.3, 0.2])))
    mu = pyro.sample("mu", dist.Normal(1.5 * c.to(x), 1.0))
    with pyro.plate("data", len(x)):
        pyro.sample("x", dist.Normal(mu, 1.0), obs=x)


def gaussian_log_evidence(x, prior_mean):
    n = len(x)
    covariance = torch.eye(n, dtype=x.dtype) + torch.ones(n, n, dtype=x.dtype)
    return float(dist.MultivariateNormal(x.new_full((n,), prior_mean), covariance).log_prob(x))


def test_a_model_with_only_discrete_latents_is_summed_exactly():
    estimate = evidence(which_mean, X, steps=10, chains=8)
    terms = [math.log(0.7) + float(dist.Normal(0.0, 1.0).log_prob(X).sum()),
             math.log(0.3) + float(dist.Normal(2.0, 1.0).log_prob(X).sum())]
    exact = float(torch.tensor(terms, dtype=torch.float64).logsumexp(0))
    assert estimate.value == pytest.approx(exact, abs=1e-12)
    assert estimate.stderr == 0.0 and "2 discrete values summed" in estimate.name


def test_continuous_latents_under_a_discrete_one_are_annealed_per_value():
    estimate = evidence(shifted_prior, X, steps=300, chains=256, seed=0)
    exact = float(torch.tensor([math.log(p) + gaussian_log_evidence(X, 1.5 * c)
                                for c, p in enumerate([0.5, 0.3, 0.2])],
                               dtype=torch.float64).logsumexp(0))
    assert estimate.value == pytest.approx(exact, abs=0.05), str(estimate)
    assert 0 < estimate.stderr < 0.05 and 0.3 < estimate.acceptance < 0.95
    assert estimate.log_weights.shape == (3 * 256,)
    assert 1 <= estimate.ess <= 256  # the terms' ESS, weighted: never more than one run's
    assert estimate.convergence.converged


def test_the_ess_of_exactly_summed_values_is_every_chain_and_no_more():
    estimate = evidence(which_mean, X, steps=10, chains=64)
    assert estimate.ess == pytest.approx(64)


def local_discrete(x):
    with pyro.plate("data", len(x)):
        c = pyro.sample("c", dist.Bernoulli(x.new_tensor(0.5)))
        pyro.sample("x", dist.Normal(c, 1.0), obs=x)


def unbounded(x):
    k = pyro.sample("k", dist.Poisson(x.new_tensor(3.0)))
    with pyro.plate("data", len(x)):
        pyro.sample("x", dist.Normal(k, 1.0), obs=x)


def many_switches(x):
    total = x.new_tensor(0.0)
    for i in range(11):  # 2^11 joint values
        total = total + pyro.sample(f"c{i}", dist.Bernoulli(x.new_tensor(0.5)))
    with pyro.plate("data", len(x)):
        pyro.sample("x", dist.Normal(total, 1.0), obs=x)


@pytest.mark.parametrize(("model", "options", "match"), [
    (local_discrete, {}, "'c' is discrete and local .in plate data"),
    (unbounded, {}, "no finite support to enumerate .Poisson"),
    (many_switches, {}, f"2048 joint values, more than {MAX_ASSIGNMENTS}"),
    (which_mean, {"guide": lambda x: None}, "guide cannot start the chains"),
])
def test_discrete_latents_that_cannot_be_summed_are_one_line_errors(model, options, match):
    with pytest.raises(EvidenceError, match=match) as caught:
        evidence(model, X, steps=2, chains=4, **options)
    assert "\n" not in str(caught.value)


def test_the_bdmc_sandwich_refuses_discrete_latents():
    with pytest.raises(EvidenceError, match="evidence_bdmc cannot"):
        evidence_bdmc(shifted_prior, X, steps=2, chains=4)
