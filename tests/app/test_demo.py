import pytest

from pvae.app.cli import main

FIGURES = {"gaussian_likelihood", "mixture_density", "bounds_against_k", "training_curves",
           "reconstructions", "samples", "latent_space", "latent_manifold", "interpolation",
           "gaps", "latent_usage", "prior_samples", "codes_over_prior"}


# the quick demo draws only 100 posterior samples; ArviZ rightly flags its LOO as rough
@pytest.mark.filterwarnings("ignore:Estimated shape parameter of Pareto:UserWarning")
def test_demo_writes_a_report_with_its_figures(tmp_path, capsys):
    assert main(["demo", "--quick", "--out", str(tmp_path), "--no-progress"]) == 0
    report = (tmp_path / "report.md").read_text()
    assert "## Held-out log-likelihood" in report
    assert "| closed form (mean, 1/N std) |" in report
    assert "autoencoder" in report
    assert "| autoencoder (2-D) |" in report and "| VAE (2-D) |" in report  # the holes
    assert report == capsys.readouterr().out.rstrip("\n") + "\n"
    assert {p.stem for p in (tmp_path / "figures").glob("*.png")} == FIGURES
    for name in FIGURES:
        assert f"](figures/{name}.png)" in report
    assert (tmp_path / "runs" / "vae" / "checkpoint.pt").is_file()
