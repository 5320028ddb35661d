import pytest

from pvae.app.cli import main
from pvae.plots import read_provenance

FIGURES = {"gaussian_likelihood", "mixture_density", "bounds_against_k", "training_curves",
           "reconstructions", "samples", "latent_space", "latent_manifold", "interpolation",
           "gaps", "latent_usage", "prior_samples", "codes_over_prior"}


def leave_one_out_rows(report):
    lines = report.split("Observation family by leave-one-out")[1].splitlines()
    return [line for line in lines if line.startswith("| ") and "elpd" not in line
            and "---" not in line][:2]


# the quick demo draws only 100 posterior samples; ArviZ rightly flags its LOO as rough
@pytest.mark.filterwarnings("ignore:Estimated shape parameter of Pareto:UserWarning")
def test_demo_writes_a_report_with_its_figures(tmp_path, capsys):
    assert main(["demo", "--quick", "--out", str(tmp_path), "--no-progress"]) == 0
    report = (tmp_path / "report.md").read_text()
    assert "## Held-out log-likelihood" in report
    assert "| closed form (mean, 1/N std) |" in report
    assert "autoencoder" in report
    assert "| autoencoder (2-D) |" in report and "| VAE (2-D) |" in report  # the holes
    captured = capsys.readouterr()
    assert report == captured.out.rstrip("\n") + "\n"
    assert {p.stem for p in (tmp_path / "figures").glob("*.png")} == FIGURES
    for name in FIGURES:
        assert f"](figures/{name}.png)" in report
        stamp = read_provenance(tmp_path / "figures" / f"{name}.png")
        assert stamp["Mode"] == "quick", (name, stamp)  # never mistaken for a full run's
        assert stamp["Command"].startswith(("pvae", "pytest", "python")), stamp
    assert (tmp_path / "runs" / "vae" / "checkpoint.pt").is_file()
    # it says what it is doing as it goes, a line per section with its time
    steps = [line for line in captured.err.splitlines() if line.startswith("pvae demo: ")]
    for section in ("1/3", "2/3", "3/3"):
        assert any(section in line and "done in" in line for line in steps), captured.err
    # the leave-one-out table tells the two families apart (ArviZ 1.x rounds unless told)
    rows = leave_one_out_rows(report)
    assert len(rows) == 2 and rows[0].split("|")[2:] != rows[1].split("|")[2:], rows
