"""`pvae train --resume --out DIR` as Lightning resumes (issue 41, item 2)."""

import pytest

import pvae.app.runs as training
from pvae.app.cli import main
from pvae.checkpoint import load_checkpoint
from pvae.config import read_config


def _train(*args):
    return main(["train", *map(str, args), "--no-progress"])


def test_resume_reads_the_stored_config_and_extends_a_finished_run(tmp_path, config, capsys):
    out = tmp_path / "run"
    assert _train(config, "--out", out, "--set", "train.lr=1e-2") == 0
    assert _train("--resume", "--out", out, "--set", "train.epochs=4") == 0, \
        capsys.readouterr().err
    extended = load_checkpoint(out / "checkpoint.pt")
    assert extended.training.epoch == 4 and extended.config.train["lr"] == 1e-2
    assert read_config(out / "config.toml")["train"]["epochs"] == 4
    whole = tmp_path / "whole"
    assert _train(config, "--out", whole, "--set", "train.lr=1e-2", "--set",
                  "train.epochs=4") == 0
    # the extended run is the run that had 4 epochs from the start, bit for bit
    assert extended.history == load_checkpoint(whole / "checkpoint.pt").history
    capsys.readouterr()
    assert _train("--resume", "--out", out) == 0  # complete: says how to extend it
    assert "train.epochs" in capsys.readouterr().out


def test_every_differing_key_is_named_with_both_values(tmp_path, config, capsys):
    out = tmp_path / "run"
    assert _train(config, "--out", out) == 0
    capsys.readouterr()
    assert _train(config, "--out", out, "--resume", "--set", "train.lr=0.1", "--set",
                  "train.batch_size=32", "--set", "train.epochs=3") == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert "train.lr" in err and "0.003" in err and "0.1" in err, err
    assert "train.batch_size" in err and "256" in err and "32" in err, err
    assert _train("--resume", "--out", out, "--set", "train.epochs=1") == 2
    assert "epochs" in capsys.readouterr().err


def test_an_interrupt_names_the_epoch_and_the_command_and_loses_nothing(tmp_path, config,
                                                                       monkeypatch, capsys):
    out = tmp_path / "run"
    real, calls = training.TrainingLog.update, []

    def update(self, history):  # Ctrl-C at the end of the second epoch
        calls.append(1)
        real(self, history)
        if len(calls) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(training.TrainingLog, "update", update)
    assert _train(config, "--out", out, "--set", "train.epochs=3", "--set",
                  "train.checkpoint_every=3") == 130
    err = capsys.readouterr().err
    assert "epoch 2" in err and f"pvae train --resume --out {out}" in err, err
    monkeypatch.undo()
    assert (out / "config.toml").is_file()
    assert load_checkpoint(out / "checkpoint.pt").training.epoch == 2  # not lost
    assert _train("--resume", "--out", out) == 0
    assert load_checkpoint(out / "checkpoint.pt").training.epoch == 3


def test_an_interrupt_in_the_first_epoch_leaves_the_config_to_resume_from(tmp_path, config,
                                                                        monkeypatch, capsys):
    out = tmp_path / "run"

    def interrupted(*args, **kwargs):
        assert (out / "config.toml").is_file()  # written before the first step
        raise KeyboardInterrupt

    monkeypatch.setattr(training, "_fit", interrupted)
    assert _train(config, "--out", out) == 130
    assert "epoch 1" in capsys.readouterr().err
    monkeypatch.undo()
    assert _train("--resume", "--out", out) == 0, capsys.readouterr().err
    assert load_checkpoint(out / "checkpoint.pt").training.epoch == 2


@pytest.mark.parametrize("args", [["--resume"], [], ["--resume", "--out", "nowhere"]])
def test_without_a_config_is_one_line(tmp_path, monkeypatch, capsys, args):
    monkeypatch.chdir(tmp_path)
    assert _train(*args) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("pvae train: error:"), err


def test_an_early_stopped_run_stays_stopped_unless_its_epochs_are_raised(tmp_path, config,
                                                                          capsys):
    out = tmp_path / "run"
    # a learning rate of ~0 leaves the validation objective flat: patience 1 stops at once
    assert _train(config, "--out", out, "--set", "train.epochs=6", "--set", "train.lr=1e-12",
                  "--set", "train.patience=1") == 0
    stopped = load_checkpoint(out / "checkpoint.pt")
    assert stopped.training.epoch < 6, "the run did not stop early: the test proves nothing"
    capsys.readouterr()
    assert _train("--resume", "--out", out) == 0  # stays stopped: nothing is trained
    assert load_checkpoint(out / "checkpoint.pt").history == stopped.history
    assert "train.epochs" in capsys.readouterr().out  # ... and says how to go on
    assert _train("--resume", "--out", out, "--set", "train.epochs=8") == 0, \
        capsys.readouterr().err
    extended = load_checkpoint(out / "checkpoint.pt")
    assert extended.training.epoch > stopped.training.epoch
    assert extended.history.epoch[:len(stopped.history.epoch)] == stopped.history.epoch
