import pytest
import torch

import pvae
from pvae.data import binarize, digits
from pvae.models.parameters import set_constrained

from .pca import closed_form_pca


def rotated_linear_gaussian(angle):
    """PPCA at its closed form, its latent space rotated by ``angle``: the same model, a
    correlated posterior, and an encoder that was exact before the rotation."""
    model, x = closed_form_pca()
    turn = torch.tensor(angle, dtype=torch.float64)
    rotation = torch.stack([torch.stack([turn.cos(), -turn.sin()]),
                            torch.stack([turn.sin(), turn.cos()])])
    set_constrained(model, "weight", model.weight.detach() @ rotation)
    return model, x[:30]


def best_diagonal_kl(model):
    r"""KL of the best diagonal Gaussian from the posterior: ½(Σ log Λ_dd − log det Λ)."""
    weight, noise2 = model.weight.detach(), model.noise.detach() ** 2
    precision = (weight.T @ weight + noise2 * torch.eye(2, dtype=torch.float64)) / noise2
    return float(0.5 * (precision.diagonal().log().sum() - torch.logdet(precision)))


def test_the_gaps_match_their_closed_forms_on_a_linear_gaussian_model():
    model, x = rotated_linear_gaussian(0.3)
    result = pvae.gaps(model, x, steps=400)
    assert result.log_likelihood.name == "exact"
    assert result.approximation.value == pytest.approx(best_diagonal_kl(model), abs=0.01)
    total = result.approximation.value + result.amortization.value
    assert total == pytest.approx(float(model.posterior_kl(x).mean()), abs=0.01)
    assert total == pytest.approx(result.log_likelihood.value - result.elbo.value, abs=1e-9)
    assert result.amortization.value > 0.1 and len(result.fallback) == 0


def test_with_the_exact_guide_nothing_is_lost_to_amortisation():
    model, x = rotated_linear_gaussian(0.0)
    result = pvae.gaps(model, x, steps=200)
    assert result.amortization.value == pytest.approx(0.0, abs=0.01)
    assert result.approximation.value == pytest.approx(0.0, abs=0.01)  # W'W is diagonal


def test_a_vae_without_an_exact_likelihood_uses_ais():
    vae = pvae.VAE((64,), 2, guide="flow", encoder={"name": "mlp", "hidden": [8]},
                   decoder={"name": "mlp", "hidden": [8]})
    x = binarize(digits().test[:8])
    result = pvae.gaps(vae, x, steps=20, ais_steps=10)
    assert result.log_likelihood.name == "ais-10"
    assert torch.isfinite(result.approximation.per_datapoint).all()


def test_rows_whose_fit_diverges_keep_the_amortised_q():
    model, x = rotated_linear_gaussian(0.3)
    result = pvae.gaps(model, x, steps=30, lr=1e6)  # every local fit blows up
    assert len(result.fallback) > 0
    assert torch.isfinite(result.local_elbo.per_datapoint).all()
    kept = result.amortization.per_datapoint[result.fallback]
    assert torch.equal(kept, torch.zeros_like(kept))


def test_what_has_no_gaps_says_why():
    with pytest.raises(ValueError, match="point mass"):
        pvae.gaps(pvae.VAE((64,), 2, guide="delta"), binarize(digits().test[:4]))
    with pytest.raises(ValueError, match="enumeration"):
        pvae.gaps(pvae.GaussianMixture(2, dim=2), torch.randn(5, 2))
    model, x = rotated_linear_gaussian(0.1)
    with pytest.raises(ValueError, match="steps must be a positive integer"):
        pvae.gaps(model, x, steps=0)
    with pytest.raises(pvae.DataError, match=r"\(N, 6\)"):
        pvae.gaps(model, torch.randn(5, 3))
    with pytest.raises(ValueError, match="log_likelihood must be an Estimate"):
        pvae.gaps(model, x, steps=2, log_likelihood=3.0)
    with pytest.raises(ValueError, match="without a latent .* exact"):
        pvae.gaps(pvae.Gaussian(), torch.randn(20), steps=2)
