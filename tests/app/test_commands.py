"""Each command builds its model exactly once (config checks included)."""

import functools

import pytest
import torch

from pvae.app.cli import main
from pvae.models.vae import VAE


@pytest.fixture
def built(monkeypatch):
    """Count the VAEs constructed while a command runs."""
    count = {"n": 0}
    real = VAE.__init__

    @functools.wraps(real)  # the registry reads the constructor's signature
    def counting(self, *args, **kwargs):
        count["n"] += 1
        real(self, *args, **kwargs)

    monkeypatch.setattr(VAE, "__init__", counting)
    return count


def test_every_command_builds_its_model_once(tmp_path, config, built):
    out = tmp_path / "run"
    checkpoint = str(out / "checkpoint.pt")
    commands = [
        ["train", str(config), "--out", str(out), "--seed", "3", "--no-progress"],
        ["train", str(config), "--out", str(out), "--resume", "--no-progress"],
        ["evaluate", checkpoint, "--k", "5", "--n", "20", "--no-progress"],
        ["sample", checkpoint, "--n", "4", "--out", str(tmp_path / "s.png")],
        ["plot", checkpoint, "--out", str(tmp_path / "figures")],
    ]
    for command in commands:
        built["n"] = 0
        assert main(command) == 0, command
        assert built["n"] == 1, (command, built["n"])


def test_the_seed_override_fixes_the_initial_weights(tmp_path, config):
    from pvae.checkpoint import load_checkpoint

    config.write_text(config.read_text().replace("epochs = 2", "epochs = 1"))
    for name, seed in (("a", "3"), ("b", "3"), ("c", "4")):
        assert main(["train", str(config), "--out", str(tmp_path / name), "--seed", seed,
                     "--no-progress"]) == 0
    weights = {name: load_checkpoint(tmp_path / name / "checkpoint.pt").model
               for name in "abc"}
    def same(first, second):
        return all(torch.equal(first[key], second[key]) for key in first)

    assert same(weights["a"], weights["b"]) and not same(weights["a"], weights["c"])


def test_a_shipped_config_by_name_set_overrides_and_what_the_run_leaves(tmp_path, capsys):
    import csv

    import pvae
    from pvae.app.cli import main

    assert main(["config", "show", "digits_vae", "--set", "train.epochs=1", "--set",
                 "data.validation=20"]) == 0
    shown = capsys.readouterr().out
    assert "epochs = 1" in shown and "validation = 20" in shown
    assert main(["configs"]) == 0 and "digits_vae" in capsys.readouterr().out
    out = tmp_path / "run"
    assert main(["train", "digits_vae", "--out", str(out), "--set", "train.epochs=1",
                 "--set", "data.validation=20", "--no-progress"]) == 0
    rows = list(csv.reader((out / "history.csv").read_text().splitlines()))
    assert rows[0][:3] == ["epoch", "loss", "validation"] and len(rows) == 2
    model = pvae.load(out / "checkpoint.pt")
    assert isinstance(model, pvae.VAE) and model.z_dim == 2


@pytest.mark.parametrize(("setting", "message"), [
    ("epochs=1", "--set takes TABLE.KEY=VALUE"),
    ("train.epoch=1", "has no key 'epoch'. Did you mean 'epochs'?"),
    ("train.lr=abc", "lr must be a positive number"),
    ("model.z_dim=-1", "z_dim"),
])
def test_a_bad_set_is_one_line_naming_the_key(tmp_path, capsys, setting, message):
    from pvae.app.cli import main

    assert main(["train", "digits_vae", "--out", str(tmp_path), "--set", setting]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "checkpoint.pt").exists()
