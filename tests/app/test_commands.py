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
