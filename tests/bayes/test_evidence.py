"""pvae.evidence against exact log evidences written out here (float64)."""

import math
import warnings

import pyro
import pyro.distributions as dist
import pytest
import torch
from pyro.infer.autoguide import AutoLaplaceApproximation, AutoNormal

import pvae
from pvae.bayes import EvidenceError, EvidenceWarning, evidence

#: how close AIS at its default settings must come to the exact log evidence (nats)
TOLERANCE = 0.05


def normal_mean_model(x):
    mu = pyro.sample("mu", dist.Normal(x.new_tensor(0.0), 2.0))
    with pyro.plate("data", len(x)):
        pyro.sample("x", dist.Normal(mu, 1.0), obs=x)


def normal_mean_exact(x):
    n = len(x)
    covariance = torch.eye(n, dtype=x.dtype) + 4.0 * torch.ones(n, n, dtype=x.dtype)
    return float(dist.MultivariateNormal(x.new_zeros(n), covariance).log_prob(x))


def beta_bernoulli_model(x):
    p = pyro.sample("p", dist.Beta(x.new_tensor(2.0), x.new_tensor(3.0)))
    with pyro.plate("data", len(x)):
        pyro.sample("x", dist.Bernoulli(p), obs=x)


def beta_bernoulli_exact(x):
    def log_beta(a, b):
        return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)
    k, n = float(x.sum()), len(x)
    return log_beta(2.0 + k, 3.0 + n - k) - log_beta(2.0, 3.0)


def gamma_poisson_model(x):
    rate = pyro.sample("rate", dist.Gamma(x.new_tensor(2.0), x.new_tensor(1.0)))
    with pyro.plate("data", len(x)):
        pyro.sample("x", dist.Poisson(rate), obs=x)


def gamma_poisson_exact(x):
    a, b, total, n = 2.0, 1.0, float(x.sum()), len(x)
    return (a * math.log(b) - math.lgamma(a) + math.lgamma(a + total)
            - (a + total) * math.log(b + n) - float(torch.lgamma(x + 1).sum()))


def normal_inverse_gamma_model(x):
    # sigma^2 ~ InvGamma(3, 2), mu | sigma^2 ~ N(1, sigma^2 / 0.5): conjugate to the Normal
    variance = pyro.sample("variance", dist.InverseGamma(x.new_tensor(3.0), x.new_tensor(2.0)))
    mu = pyro.sample("mu", dist.Normal(1.0, (variance / 0.5).sqrt()))
    with pyro.plate("data", len(x)):
        pyro.sample("x", dist.Normal(mu, variance.sqrt()), obs=x)


def normal_inverse_gamma_exact(x):
    a, b, kappa, m, n = 3.0, 2.0, 0.5, 1.0, len(x)
    mean = float(x.mean())
    kappa_n, a_n = kappa + n, a + n / 2
    b_n = b + 0.5 * float(((x - mean) ** 2).sum()) + kappa * n * (mean - m) ** 2 / (2 * kappa_n)
    return (math.lgamma(a_n) - math.lgamma(a) + a * math.log(b) - a_n * math.log(b_n)
            + 0.5 * math.log(kappa / kappa_n) - n / 2 * math.log(2 * math.pi))


DESIGN = torch.randn(25, 2, generator=torch.Generator().manual_seed(3), dtype=torch.float64)


def regression_model(y):
    weights = pyro.sample("w", dist.Normal(y.new_zeros(2), 1.0).to_event(1))
    with pyro.plate("data", len(y)):
        # written to broadcast: a batch of weights (chains, 1, 2) gives (chains, N) means
        pyro.sample("y", dist.Normal((DESIGN * weights).sum(-1), 0.5), obs=y)


def regression_exact(y):
    covariance = DESIGN @ DESIGN.T + 0.25 * torch.eye(len(y), dtype=y.dtype)
    return float(dist.MultivariateNormal(y.new_zeros(len(y)), covariance).log_prob(y))


def data(name):
    generator = torch.Generator().manual_seed(0)
    if name == "normal mean":
        return 1.5 + torch.randn(20, generator=generator, dtype=torch.float64)
    if name == "beta-bernoulli":
        return (torch.rand(30, generator=generator, dtype=torch.float64) < 0.3).double()
    if name == "gamma-poisson":
        return torch.poisson(torch.full((15,), 3.0, dtype=torch.float64), generator=generator)
    if name == "normal-inverse-gamma":
        return 2.0 + 0.8 * torch.randn(25, generator=generator, dtype=torch.float64)
    truth = torch.tensor([0.7, -1.2], dtype=torch.float64)
    return DESIGN @ truth + 0.5 * torch.randn(25, generator=generator, dtype=torch.float64)


CASES = {"normal mean": (normal_mean_model, normal_mean_exact),
         "beta-bernoulli": (beta_bernoulli_model, beta_bernoulli_exact),
         "gamma-poisson": (gamma_poisson_model, gamma_poisson_exact),
         "normal-inverse-gamma": (normal_inverse_gamma_model, normal_inverse_gamma_exact),
         "bayesian regression": (regression_model, regression_exact)}


@pytest.mark.parametrize("name", CASES)
def test_ais_comes_within_a_twentieth_of_a_nat_of_the_exact_evidence(name):
    model, exact = CASES[name]
    x = data(name)
    estimate = evidence(model, x, seed=0)
    assert estimate.value == pytest.approx(exact(x), abs=TOLERANCE), str(estimate)
    assert estimate.num_data == len(x) and estimate.per_datapoint == estimate.value / len(x)
    assert 0.3 < estimate.acceptance < 0.95 and 1 <= estimate.ess <= 512
    assert estimate.stderr < TOLERANCE
    # the default settings converge, and say so (an EvidenceWarning would fail this test)
    assert estimate.convergence.converged and estimate.convergence.short_steps == 250
    assert abs(estimate.convergence.bias_left) < TOLERANCE
    assert abs(estimate.convergence.drift) < 4 * estimate.convergence.drift_stderr + 0.05


def test_one_temperature_is_importance_sampling_from_the_prior_and_says_so():
    # with T = 1 the weights are the likelihood at prior draws: a few chains carry them all
    x = data("normal mean")
    rough = evidence(normal_mean_model, x, steps=1, seed=0)
    annealed = evidence(normal_mean_model, x, seed=0)
    assert rough.ess < 0.2 * annealed.ess and rough.stderr > 5 * annealed.stderr
    assert rough.log_weight_variance > 100 * annealed.log_weight_variance
    assert rough.acceptance == 0.0  # no move at all: the last temperature needs none


def vague_normal_mean(x):
    mu = pyro.sample("mu", dist.Normal(x.new_tensor(0.0), 1000.0))
    with pyro.plate("data", len(x)):
        pyro.sample("x", dist.Normal(mu, 1.0), obs=x)


def test_weights_that_collapse_onto_a_few_chains_are_a_warning_not_a_quiet_number():
    # a prior 4500 times the posterior's width, crossed in 3 temperatures
    with pytest.warns(EvidenceWarning, match=r"collapsed onto \d+\.\d of 256 chains.*raise "
                                             r"steps \(now 3\)"):
        evidence(vague_normal_mean, data("normal mean"), steps=3, chains=256, seed=0)


def no_latent(x):
    with pyro.plate("data", len(x)):
        pyro.sample("x", dist.Normal(0.0, 1.0), obs=x)


def improper(x):
    mu = pyro.sample("mu", dist.ImproperUniform(dist.constraints.real, (), ()))
    with pyro.plate("data", len(x)):
        pyro.sample("x", dist.Normal(mu, 1.0), obs=x)


@pytest.mark.parametrize(("model", "options", "error", "match"), [
    (no_latent, {}, EvidenceError, "no latent site: .* use pvae.exact"),
    (improper, {}, EvidenceError, "improper prior"),
    (normal_mean_model, {"steps": 0}, ValueError, "steps"),
    (normal_mean_model, {"chains": 0}, ValueError, "chains"),
    (normal_mean_model, {"chains": 10**8}, ValueError, "more than any estimate needs"),
    (normal_mean_model, {"steps": 10**9}, ValueError, "more than any run needs"),
    ("not a model", {}, TypeError, "Pyro model"),
])
def test_bad_models_and_settings_are_one_line_errors(model, options, error, match):
    with pytest.raises(error, match=match) as caught:
        evidence(model, data("normal mean"), **options)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(("model", "x", "match"), [
    (gamma_poisson_model, -data("gamma-poisson"), "within the support .IntegerGreaterThan"),
    (gamma_poisson_model, data("gamma-poisson") + 0.5, "within the support"),
    (gamma_poisson_model, data("gamma-poisson").long(), "pass floating-point data"),
    (normal_mean_model, torch.zeros(10, 3, dtype=torch.float64), "not broadcastable"),
])
def test_data_the_model_cannot_take_is_refused_before_any_work(model, x, match):
    with pytest.raises(EvidenceError, match=f"does not run on this data .*{match}") as caught:
        evidence(model, x, steps=5, chains=4)
    assert "\n" not in str(caught.value)


def test_bad_data_is_refused():
    with pytest.raises(ValueError, match="NaN or infinite"):
        evidence(normal_mean_model, torch.tensor([1.0, math.nan], dtype=torch.float64))
    with pytest.raises(ValueError, match="at least one datapoint"):
        evidence(normal_mean_model, [1.0, 2.0])


def wrongly_broadcast(y):
    weights = pyro.sample("w", dist.Normal(y.new_zeros(2), 1.0).to_event(1))
    with pyro.plate("data", len(y)):
        # an extra dimension: with a batch of weights the means cross every chain with every other
        pyro.sample("y", dist.Normal((DESIGN * weights.unsqueeze(-2)).sum(-1), 0.5), obs=y)


def test_a_model_that_broadcasts_into_an_extra_dimension_runs_its_chains_alone():
    # right for one draw of the weights, wrong for a batch: each chain runs it on its own
    y = data("bayesian regression")
    settings = {"steps": 5, "chains": 8, "seed": 0, "check_convergence": False}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EvidenceWarning)  # 5 temperatures converge nowhere
        with pytest.warns(pvae.bayes.UnbatchedModelWarning, match="more batch dimensions"):
            alone = evidence(wrongly_broadcast, y, **settings)
        broadcast = evidence(regression_model, y, **settings)
    assert alone.value == pytest.approx(broadcast.value, abs=1e-9)


def test_pvaes_bayesian_gaussian_against_two_dimensional_quadrature():
    import pvae

    x = 2.0 + 1.5 * torch.randn(30, generator=torch.Generator().manual_seed(4),
                                dtype=torch.float64)
    model = pvae.BayesianGaussian("normal")
    mean, sd, n = float(x.mean()), float(x.std()), len(x)
    locs = torch.linspace(mean - 8 * sd / n**0.5, mean + 8 * sd / n**0.5, 801,
                          dtype=torch.float64)
    scales = torch.linspace(0.4 * sd, 2.5 * sd, 801, dtype=torch.float64)
    loc, scale = torch.meshgrid(locs, scales, indexing="ij")
    log_joint = (dist.Normal(0.0, 10.0).log_prob(loc) + dist.HalfNormal(10.0).log_prob(scale)
                 + dist.Normal(loc[..., None], scale[..., None]).log_prob(x).sum(-1))
    peak = log_joint.max()
    area = torch.trapezoid(torch.trapezoid((log_joint - peak).exp(), scales, dim=1), locs)
    exact = float(peak + area.log())
    estimate = evidence(model.model, x, seed=0)
    assert estimate.value == pytest.approx(exact, abs=TOLERANCE), (str(estimate), exact)


def far_off_guide(x):
    pyro.sample("mu", dist.Normal(x.new_tensor(5.0), 1e-4))


@pytest.mark.parametrize("steps", [200, 1000])
def test_a_far_off_start_is_caught_not_hidden_by_a_small_error_bar(steps):
    # the path never leaves the guide's point: both lengths agree, but the chains climb
    # by a hundred nats as soon as they may move at the posterior
    x = data("normal mean")
    with pytest.warns(EvidenceWarning, match=rf"ais-{steps} from the guide: its chains never "
                                             r"reached the posterior.* by \+\d+\.\d+ ± .*up:"):
        estimate = evidence(normal_mean_model, x, guide=far_off_guide, steps=steps, chains=64,
                            seed=0)
    truth = normal_mean_exact(x)
    assert estimate.value < truth - 50  # far off, with an error bar well under a nat
    assert estimate.stderr < 1 and not estimate.convergence.converged
    assert estimate.convergence.drift > 100 and not estimate.convergence.settled


def test_too_few_temperatures_are_caught():
    # a prior 1000 times wider than the likelihood, crossed in 40 temperatures
    with pytest.warns(EvidenceWarning, match=r"ais-40: it has not converged: 10 -> 40"):
        estimate = evidence(vague_normal_mean, data("normal mean"), steps=40, chains=64,
                            seed=0)
    assert not estimate.convergence.converged


def test_the_check_can_be_skipped_and_needs_four_temperatures():
    x = data("normal mean")
    assert evidence(normal_mean_model, x, steps=50, check_convergence=False,
                    seed=0).convergence is None
    unchecked = evidence(normal_mean_model, x, steps=3, seed=0).convergence
    assert unchecked.short_steps is None and unchecked.settled  # no shorter run; moves only
    with pytest.raises(TypeError, match="check_convergence must be"):
        evidence(normal_mean_model, x, steps=5, check_convergence="yes")


@pytest.mark.parametrize(("build", "match"), [
    (lambda: pvae.VAE((4,), 2), r"VAE's parameters are point estimates .* pvae.ais"),
    (lambda: pvae.GaussianMixture(2), r"GaussianMixture's .* pvae.exact\(model, x\)"),
    (lambda: pvae.Gaussian(), r"Gaussian's .* pvae.exact\(model, x\)"),
])
def test_pvaes_fitted_models_are_refused_saying_what_to_use(build, match):
    with pytest.raises(EvidenceError, match=match) as caught:
        evidence(build(), torch.zeros(5, 4), steps=5)
    assert "model.model" in str(caught.value) and "\n" not in str(caught.value)


def test_an_unprepared_laplace_guide_is_a_point_mass_and_refused():
    guide = AutoLaplaceApproximation(normal_mean_model)
    with pytest.raises(EvidenceError, match=r"AutoLaplaceApproximation\) is a point mass"):
        evidence(normal_mean_model, data("normal mean"), guide=guide, steps=8, chains=16)


def test_weights_on_one_chain_give_the_drift_no_verdict_and_warn_as_a_collapse():
    with pytest.warns(EvidenceWarning, match="collapsed onto 1.0 of 256 chains") as said:
        estimate = evidence(vague_normal_mean, data("normal mean"), steps=3, chains=256,
                            seed=0)
    assert estimate.convergence.drift_stderr == math.inf and estimate.convergence.settled
    assert "never reached" not in str(said[0].message)
    assert 1 <= estimate.ess <= 256


def ignores_its_latent(x):
    pyro.sample("mu", dist.Normal(x.new_tensor(0.0), 1.0))
    with pyro.plate("data", len(x)):
        pyro.sample("x", dist.Normal(x.new_tensor(0.0), 1.0), obs=x)


def test_the_ess_of_equal_weights_is_the_chains_and_never_more():
    estimate = evidence(ignores_its_latent, data("normal mean").float(), steps=1, chains=100)
    assert estimate.ess <= 100 and estimate.ess == pytest.approx(100)


@pytest.mark.parametrize("x", [torch.ones(4, dtype=torch.complex64),
                               torch.tensor([True, False])], ids=["complex", "bool"])
def test_data_that_are_not_real_numbers_are_refused(x):
    with pytest.raises(ValueError, match="values: pass real numbers"):
        evidence(normal_mean_model, x, steps=8, chains=16)


@pytest.mark.filterwarnings("ignore::pvae.EvidenceWarning")  # an unfitted guide: far off
def test_the_same_seed_repeats_even_while_an_autoguide_sets_itself_up():
    pyro.clear_param_store()
    guide = AutoNormal(normal_mean_model)
    x = data("normal mean")
    runs = [evidence(normal_mean_model, x, guide=guide, steps=8, chains=16, seed=0)
            for _ in range(2)]
    assert runs[0].value == runs[1].value
    assert runs[0].convergence == runs[1].convergence
