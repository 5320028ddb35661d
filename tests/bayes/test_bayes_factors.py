"""pvae.bayes_factors against the exact log Bayes factor of two priors for a Normal mean."""

import math

import pyro
import pyro.distributions as dist
import pytest
import torch

import pvae
from pvae.bayes import EvidenceWarning, bayes_factor_table, bayes_factors


def normal_mean(prior_sd):
    def model(x):
        mu = pyro.sample("mu", dist.Normal(x.new_tensor(0.0), prior_sd))
        with pyro.plate("data", len(x)):
            pyro.sample("x", dist.Normal(mu, 1.0), obs=x)
    return model


def exact_log_evidence(x, prior_sd):
    n = len(x)
    covariance = torch.eye(n, dtype=x.dtype) + prior_sd**2 * torch.ones(n, n, dtype=x.dtype)
    return float(dist.MultivariateNormal(x.new_zeros(n), covariance).log_prob(x))


X = 0.8 + torch.randn(20, generator=torch.Generator().manual_seed(0), dtype=torch.float64)


def test_a_vague_prior_loses_the_exact_occam_factor():
    models = {"vague": normal_mean(100.0), "fitting": normal_mean(2.0)}
    rows = bayes_factors(models, X, steps=1000, chains=128, seed=0)
    assert [row.name for row in rows] == ["fitting", "vague"]
    exact = exact_log_evidence(X, 100.0) - exact_log_evidence(X, 2.0)
    assert exact < -3.5  # log(100 / 2) = 3.9 nats of Occam factor, less the prior's pull
    best, vague = rows
    assert best.log_bayes_factor == 0.0 and best.stderr == 0.0 and best.z == 0.0
    # within three standard errors, and those small: a vague prior needs the steps
    assert vague.stderr < 0.1
    assert vague.log_bayes_factor == pytest.approx(exact, abs=max(0.05, 3 * vague.stderr))
    assert vague.stderr == pytest.approx(math.hypot(vague.evidence.stderr,
                                                    best.evidence.stderr))
    table = bayes_factor_table(rows)
    assert table.splitlines()[2].startswith("| fitting |")
    assert f"| {vague.log_bayes_factor:.3f} | {vague.stderr:.3f} |" in table.splitlines()[3]


def test_pvae_models_are_taken_with_their_own_data_check():
    rows = bayes_factors({"normal": pvae.BayesianGaussian("normal"),
                          "laplace": pvae.BayesianGaussian("laplace")},
                         X.numpy(), steps=20, chains=16, seed=0, check_convergence=False)
    assert {row.name for row in rows} == {"normal", "laplace"}
    with pytest.raises(pvae.DataError):
        bayes_factors({"a": pvae.BayesianGaussian(), "b": pvae.BayesianGaussian("laplace")},
                      [[1.0, math.nan], [2.0, 3.0]], steps=2)


def test_guides_start_the_chains_of_the_models_they_are_given_for():
    def posterior(prior_sd):
        precision = len(X) + prior_sd**-2
        return lambda x: pyro.sample("mu", dist.Normal(x.sum() / precision, precision**-0.5))

    models = {"vague": normal_mean(100.0), "fitting": normal_mean(2.0)}
    rows = bayes_factors(models, X, guides={"vague": posterior(100.0), "fitting": posterior(2.0)},
                         steps=2, chains=8, seed=0)
    exact = exact_log_evidence(X, 100.0) - exact_log_evidence(X, 2.0)
    assert rows[1].log_bayes_factor == pytest.approx(exact, abs=1e-9)  # exact posteriors
    with pytest.raises(ValueError, match=r"guides must be .* got \['other'\]"):
        bayes_factors(models, X, guides={"other": posterior(1.0)}, steps=2)


@pytest.mark.parametrize(("models", "options", "error", "match"), [
    ([normal_mean(1.0)], {}, TypeError, "dict of model name"),
    ({"one": normal_mean(1.0)}, {}, ValueError, "at least two models"),
    ({"a": normal_mean(1.0), "b": normal_mean(2.0)}, {"guide": None}, ValueError,
     r"does not take \['guide'\]"),
    ({"a": normal_mean(1.0), "b": "normal"}, {"steps": 2}, TypeError, "model 'b': .*Pyro model"),
    ({1: normal_mean(1.0), "1": normal_mean(2.0)}, {"steps": 2}, ValueError,
     "share the name '1' once written as text"),
    ({"a": normal_mean(1.0), "b": normal_mean(2.0)}, {"seed": -1}, ValueError,
     "^seed must be"),  # a shared setting is not blamed on the first model
    ({"a": normal_mean(1.0), "b": normal_mean(2.0)}, {"check_convergence": "no"}, TypeError,
     "^check_convergence must be"),
])
def test_bad_comparisons_are_one_line_errors(models, options, error, match):
    with pytest.raises(error, match=match) as caught:
        bayes_factors(models, X, **options)
    assert "\n" not in str(caught.value)


def test_a_model_whose_evidence_has_not_converged_is_named_in_one_warning():
    models = {"vague": normal_mean(1000.0), "fitting": normal_mean(2.0)}
    with pytest.warns(EvidenceWarning, match=r"model 'vague': ais-40: it has not converged") \
            as caught:
        rows = bayes_factors(models, X, steps=40, chains=64, seed=0)
    assert len([w for w in caught if issubclass(w.category, EvidenceWarning)]) == 1
    assert [row.name for row in rows] == ["fitting", "vague"]
    assert not rows[1].evidence.convergence.converged and rows[0].evidence.convergence.converged
