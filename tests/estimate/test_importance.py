import math

import pytest
import torch

import pvae
from pvae import VAE, DataError, GaussianMixture, LinearGaussian
from pvae.data import binarize, digits
from pvae.estimate import Estimate
from pvae.estimate import importance as estimators

KS = (1, 10, 100, 1000)


@pytest.fixture(scope="module")
def imperfect():
    """A linear-Gaussian model at its MLE with a guide that is near, not at, p(z | x)."""
    generator = torch.Generator().manual_seed(2)
    weight = torch.randn(6, 2, generator=generator, dtype=torch.float64)
    x = (torch.randn(300, 2, generator=generator, dtype=torch.float64) @ weight.T
         + 0.4 * torch.randn(300, 6, generator=generator, dtype=torch.float64))
    model = LinearGaussian(6, 2).double()
    model.set_closed_form(x, exact_guide=True)
    with torch.no_grad():  # move q away from the exact posterior: a known, nonzero gap
        model.posterior_scale_unconstrained.add_(0.4)
        model.encoder_bias.add_(0.2)
    return model, x


def test_elbo_below_iwae_below_exact_and_iwae_rises_with_k(imperfect):
    model, x = imperfect
    torch.manual_seed(0)
    elbo, ladder = pvae.iwae_ladder(model, x, KS)
    exact = pvae.exact(model, x)
    values = [elbo.value] + [estimate.value for estimate in ladder]
    # within Monte Carlo error, every rung is above the last and all sit below exact
    tolerance = 3 * max(estimate.stderr for estimate in ladder) / math.sqrt(len(x))
    assert all(b >= a - tolerance for a, b in zip(values[1:], values[2:], strict=False))
    # IWAE-1 is the ELBO (from one sample instead of a thousand)
    assert ladder[0].value == pytest.approx(elbo.value, abs=3 * ladder[0].stderr)
    assert values[-1] <= exact.value + 1e-3
    assert elbo.value < ladder[-1].value < exact.value


def test_iwae_5000_is_within_005_nats_of_exact(imperfect):
    model, x = imperfect
    torch.manual_seed(1)
    estimate = pvae.iwae(model, x, 5000)
    assert abs(estimate.value - pvae.exact(model, x).value) < 0.05
    assert estimate.num_samples == 5000 and estimate.name == "iwae-5000"


def test_gap_between_exact_and_elbo_is_the_posterior_kl(imperfect):
    model, x = imperfect
    torch.manual_seed(2)
    elbo = pvae.elbo(model, x, num_particles=2000)
    gap = pvae.exact(model, x).per_datapoint - elbo.per_datapoint
    kl = model.posterior_kl(x)
    assert float(kl.mean()) > 0.1  # the guide really is off
    assert float(gap.mean()) == pytest.approx(float(kl.mean()), abs=0.01)


def test_chunking_does_not_change_an_exact_guides_answer(monkeypatch):
    x = torch.randn(50, 4, dtype=torch.float64)
    model = LinearGaussian(4, 2).double()
    model.set_closed_form(x, exact_guide=True)
    monkeypatch.setattr(estimators, "CHUNK_ELEMENTS", 64)  # tiny chunks of samples
    estimate = pvae.iwae(model, x, 37, batch_size=7)
    torch.testing.assert_close(estimate.per_datapoint, model.log_likelihood(x))


def test_vae_estimates_ignore_the_kl_weight():
    x = binarize(digits().test[:40])
    vae = VAE((64,), 3, encoder={"name": "mlp", "hidden": [16]},
              decoder={"name": "mlp", "hidden": [16]}, beta=5.0)
    torch.manual_seed(3)
    weighted = pvae.elbo(vae, x, num_particles=4)
    assert vae.kl_weight == 5.0
    vae.kl_weight = 1.0
    torch.manual_seed(3)
    true = pvae.elbo(vae, x, num_particles=4)
    torch.testing.assert_close(weighted.per_datapoint, true.per_datapoint)
    ladder = pvae.score(vae, x, ks=(1, 50))
    assert ladder.exact is None and ladder.elbo.value < ladder.iwae[-1].value


def test_score_returns_what_applies():
    x = torch.randn(60, 2, dtype=torch.float64)
    mixture = GaussianMixture(2)
    pvae.fit(mixture, x, method="em", progress=False)
    scores = pvae.score(mixture, x)
    assert scores.exact is not None and scores.elbo is None and scores.iwae == ()
    gaussian = pvae.Gaussian(dim=2)
    pvae.fit(gaussian, x, steps=20, progress=False)
    scores = pvae.score(gaussian, x, ks=(1, 5))
    # no latent variables: every estimate is the exact log-likelihood
    assert scores.elbo.value == pytest.approx(scores.exact.value)
    assert scores.iwae[-1].value == pytest.approx(scores.exact.value)


def test_estimate_value():
    estimate = Estimate.of("exact", torch.tensor([-2.0, -4.0]), 0)
    assert estimate.value == -3.0 and estimate.stderr == pytest.approx(math.sqrt(2) / math.sqrt(2))
    assert estimate.bits_per_dim(2) == pytest.approx(3.0 / (2 * math.log(2)))
    assert "nats per datapoint" in str(estimate)


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda m, x: pvae.iwae(m, x, 0), ValueError, "k must be a positive integer"),
        (lambda m, x: pvae.elbo(m, x[:, :3]), DataError, "dim=4"),
        (lambda m, x: pvae.elbo(m, x.masked_fill(x > 1, float("nan"))), DataError, "NaN"),
        (lambda m, x: pvae.elbo(object(), x), ValueError, "no model/guide pair"),
        (lambda m, x: pvae.exact(object(), x), ValueError, "no exact log-likelihood"),
    ],
    ids=["k0", "shape", "nan", "no-guide", "no-exact"],
)
def test_bad_input(call, error, message):
    model = LinearGaussian(4, 2)
    with pytest.raises(error, match=message):
        call(model, torch.randn(20, 4) * 3)


def test_enumerated_models_are_sent_to_their_exact_likelihood():
    mixture = GaussianMixture(2, dim=2)
    with pytest.raises(ValueError, match="exact"):
        pvae.iwae(mixture, torch.randn(10, 2), 5)
