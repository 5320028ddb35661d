import pytest
import torch

import pvae
from pvae.app.cli import main


def test_train_evaluate_sample_and_plot_a_config(tmp_path, config, capsys):
    out = tmp_path / "run"
    assert main(["train", str(config), "--out", str(out), "--no-progress"]) == 0
    assert "checkpoint: " in capsys.readouterr().out
    checkpoint = out / "checkpoint.pt"
    assert main(["evaluate", str(checkpoint), "--k", "20", "--n", "30", "--no-progress"]) == 0
    table = capsys.readouterr().out
    assert "| elbo |" in table and "| iwae-20 |" in table and "| iwae-10 |" in table
    assert main(["sample", str(checkpoint), "--n", "9", "--out", str(tmp_path / "s.png")]) == 0
    assert (tmp_path / "s.png").stat().st_size > 1000
    assert main(["plot", str(checkpoint), "--compare", str(checkpoint)]) == 0
    drawn = {p.stem for p in out.glob("*.png")}
    assert drawn == {"training_curves", "reconstructions", "samples", "latent_space",
                     "latent_manifold", "interpolation"}


def test_train_resumes_from_the_command_line(tmp_path, config, capsys):
    out = tmp_path / "run"
    assert main(["train", str(config), "--out", str(out), "--no-progress"]) == 0
    assert main(["train", str(config), "--out", str(out), "--no-progress"]) == 2
    assert "pass --resume" in capsys.readouterr().err
    assert main(["train", str(config), "--out", str(out), "--resume", "--no-progress"]) == 0
    assert "resumed after epoch 2" in capsys.readouterr().out


@pytest.mark.parametrize("arguments, message", [
    (["train", "{config_typo}"], "has no key 'epoch'. Did you mean 'epochs'"),
    (["train", "{absent}"], "no config file"),
    (["evaluate", "{corrupt}"], "is not a readable checkpoint"),
    (["sample", "{absent}"], "no checkpoint at"),
])
def test_user_errors_are_one_line_with_status_2(tmp_path, config, capsys, arguments,
                                                message):
    (tmp_path / "typo.toml").write_text(config.read_text().replace("epochs = 2", "epoch = 2"))
    (tmp_path / "corrupt.pt").write_bytes(b"\x00" * 100)
    paths = {"config_typo": tmp_path / "typo.toml", "absent": tmp_path / "absent",
             "corrupt": tmp_path / "corrupt.pt"}
    argv = [a.format(**paths) for a in arguments]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"pvae {argv[0]}: error: ") and err.count("\n") == 1
    assert message in err


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error without CUDA")
def test_asking_for_cuda_without_one_is_a_user_error(tmp_path, config, capsys):
    assert main(["train", str(config), "--out", str(tmp_path), "--device", "cuda"]) == 2
    assert "CUDA is not available" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["demo", "train", "evaluate", "sample", "plot", "bench"])
def test_every_subcommand_has_help(command, capsys):
    with pytest.raises(SystemExit) as exit_status:
        main([command, "--help"])
    assert exit_status.value.code == 0
    assert "usage: pvae " + command in capsys.readouterr().out


def test_bench_refuses_unknown_names(capsys):
    with pytest.raises(SystemExit) as exit_status:
        main(["bench", "nonsense"])
    assert exit_status.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_evaluate_adds_ais_and_the_bdmc_sandwich(tmp_path, config, capsys):
    out = tmp_path / "run"
    assert main(["train", str(config), "--out", str(out), "--no-progress"]) == 0
    capsys.readouterr()
    assert main(["evaluate", str(out / "checkpoint.pt"), "--k", "10", "--n", "12",
                 "--ais", "8", "--bdmc", "6", "--chains", "3", "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "| ais-8 |" in printed and "BDMC on 6 points simulated from the model" in printed
    assert "| upper (reverse AIS) |" in printed and "| lower (forward AIS) |" in printed


def test_evaluate_splits_the_gap_reports_usage_and_compares_checkpoints(tmp_path, config,
                                                                       capsys):
    for name, seed in (("one", "1"), ("two", "2")):
        assert main(["train", str(config), "--out", str(tmp_path / name), "--seed", seed,
                     "--no-progress"]) == 0
    capsys.readouterr()
    first, second = (str(tmp_path / name / "checkpoint.pt") for name in ("one", "two"))
    assert main(["evaluate", first, second, "--k", "10", "--n", "10", "--gaps", "--usage",
                 "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert printed.count("| approximation gap |") == 2 and "Latent usage: KL" in printed
    assert "best first (paired standard errors)" in printed
    assert f"| {first} | iwae-10 |" in printed and f"| {second} | iwae-10 |" in printed


def test_evaluate_measures_the_holes_of_an_autoencoder_and_a_vae(tmp_path, config, capsys):
    autoencoder = tmp_path / "autoencoder.toml"
    autoencoder.write_text(config.read_text().replace('z_dim = 2', 'z_dim = 2\nguide = "delta"'))
    for name, path in (("vae", config), ("ae", autoencoder)):
        assert main(["train", str(path), "--out", str(tmp_path / name), "--no-progress"]) == 0
    capsys.readouterr()
    vae, ae = (str(tmp_path / name / "checkpoint.pt") for name in ("vae", "ae"))
    assert main(["evaluate", vae, ae, "--k", "10", "--n", "10", "--holes",
                 "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert printed.count("of prior draws and") == 2
    assert "the codes cover" in printed  # the VAE has a density; the autoencoder has none
    assert "a point-mass guide, an autoencoder" in printed
    assert "best first" not in printed  # an autoencoder's numbers are not compared


def run_without_the_numerical_stack(call):
    """Run ``call`` (Python source) in a fresh process; its output and the heavy modules loaded."""
    import subprocess
    import sys

    probe = (f"import sys\nfrom pvae.app.cli import main\n{call}\n"
             "heavy = sorted({'torch', 'pyro', 'arviz', 'matplotlib'} & set(sys.modules))\n"
             "print('HEAVY', heavy)\n")
    return subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=True, timeout=60).stdout


def test_configs_are_listed_without_loading_the_numerical_stack():
    printed = run_without_the_numerical_stack("assert main(['configs']) == 0")
    assert "HEAVY []" in printed and "mnist" in printed.lower(), printed


def test_version_and_help_answer_without_loading_the_numerical_stack():
    import subprocess
    import sys

    printed = run_without_the_numerical_stack(
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass")
    assert "HEAVY []" in printed, printed
    from pathlib import Path

    command = Path(sys.executable).with_name("pvae")  # the installed console script
    version = subprocess.run([str(command), "--version"], capture_output=True, text=True,
                             check=True, timeout=60)
    assert version.stdout.strip() == f"pvae {pvae.__version__}"


def test_a_warning_on_the_command_line_is_one_line_without_source(capsys):
    import warnings

    from pvae.app.cli import _one_line_warnings

    with _one_line_warnings("train"), warnings.catch_warnings():
        warnings.simplefilter("always")  # the suite's own filters ignore this warning
        warnings.warn("the fit had not\nconverged", pvae.ConvergenceWarning, stacklevel=1)
    err = capsys.readouterr().err
    assert err == "pvae train: ConvergenceWarning: the fit had not converged\n"


def test_the_table_of_contents_is_what_type_checkers_see():
    import ast
    import importlib
    from pathlib import Path

    stub = ast.parse(Path(pvae.__file__).with_suffix(".pyi").read_text())
    entries = [(node.module, alias) for node in ast.walk(stub)
               if isinstance(node, ast.ImportFrom) for alias in node.names]
    assert all(alias.asname == alias.name for _, alias in entries)  # re-exported as itself
    typed = {alias.name for _, alias in entries}
    assert typed == set(pvae.__all__) and len(typed) == len(entries)
    for module, alias in entries:
        home = importlib.import_module(f"pvae.{module}")
        assert getattr(pvae, alias.name) is getattr(home, alias.name) is not None


def test_no_public_name_is_the_name_of_a_module_that_would_hide_it():
    import pkgutil
    import types

    modules = {module.name for module in pkgutil.iter_modules(pvae.__path__)}
    assert not modules & set(pvae.__all__)
    assert type(pvae) is types.ModuleType  # so no module class has to guard a name
    assert {"fit", "mcmc", "priors", "__version__"} <= set(dir(pvae))
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        pvae.nothing  # noqa: B018


@pytest.mark.parametrize(("old", "new"), [("LeanTrace_ELBO", "CheckedTrace_ELBO")])
def test_a_renamed_public_name_answers_for_one_release_and_warns(old, new):
    assert old not in pvae.__all__ and new in pvae.__all__
    with pytest.warns(DeprecationWarning, match=f"pvae.{old} is now pvae.{new}"):
        assert getattr(pvae, old) is getattr(pvae, new)
