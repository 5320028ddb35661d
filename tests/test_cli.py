import pytest
import torch

from pvae.cli import main


# the quick demo draws only 100 posterior samples; ArviZ rightly flags its LOO as rough
@pytest.mark.filterwarnings("ignore:Estimated shape parameter of Pareto:UserWarning")
def test_demo_writes_a_report(tmp_path, capsys):
    assert main(["demo", "--quick", "--out", str(tmp_path)]) == 0
    report = (tmp_path / "report.md").read_text()
    assert "## Held-out log-likelihood" in report
    assert "| closed form (mean, 1/N std) |" in report
    assert report == capsys.readouterr().out.rstrip("\n") + "\n"


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error without CUDA")
def test_user_errors_are_one_line(tmp_path, capsys):
    assert main(["demo", "--quick", "--device", "cuda", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("pvae: error: ") and err.count("\n") == 1


def test_help_lists_demo(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "demo" in capsys.readouterr().out
