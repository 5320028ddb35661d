"""The autoencoder-against-VAE report drawn from real (small) models."""

import torch

import pvae
from pvae.app.report.holes import autoencoder_against_vae, fitted_gaussian_draws
from pvae.data import digits


def test_the_report_draws_its_figures_from_real_models():
    data = digits()
    train, test = (split[:300] > 0.5 for split in (data.train, data.test))
    train, test = train.float(), test.float()
    models, flat = {}, {}
    for name, guide in (("autoencoder", "delta"), ("VAE", "normal")):
        for z_dim, into in ((4, models), (2, flat)):
            pair = pvae.VAE((64,), z_dim, guide=guide, likelihood="bernoulli",
                            encoder={"name": "mlp", "hidden": [16]},
                            decoder={"name": "mlp", "hidden": [16]})
            pvae.fit(pair, train, epochs=3, batch_size=100, seed=0)
            into[name] = pair
    figures = {}
    lines = autoencoder_against_vae(models, train, test, figures, prefix="x_", flat=flat,
                                    columns=5)
    assert set(figures) == {"x_interpolation", "x_prior_samples", "x_codes_over_prior"}
    assert len(figures["x_codes_over_prior"][0].axes) == 2
    rows = [line for line in lines if line.startswith("| ") and "%" in line]
    assert [row.split(" | ")[0] for row in rows] == [
        "| autoencoder", "| VAE", "| autoencoder (2-D)", "| VAE (2-D)"]
    assert rows[0].endswith("| — |") and not rows[1].endswith("| — |")


def test_draws_from_the_fitted_gaussian_have_the_codes_moments():
    codes = torch.randn(5000, 3, dtype=torch.float64) @ torch.tensor(
        [[2.0, 0.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 0.5]], dtype=torch.float64) + 3
    draws = fitted_gaussian_draws(codes, 20000)
    assert torch.allclose(draws.mean(0), codes.mean(0), atol=0.05)
    assert torch.allclose(torch.cov(draws.T), torch.cov(codes.T), rtol=0.05, atol=0.02)
