"""The command line as a hostile user meets it: every mistake is one line and status 2."""

import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from pvae.app.cli import main
from pvae.app.lock import run_lock
from pvae.checkpoint import load_checkpoint, save_checkpoint

from .conftest import TINY


def run(argv, capsys):
    status = main(argv)
    err = capsys.readouterr().err
    return status, err


def one_line(err):
    return err.count("\n") == 1 and err.startswith("pvae ")


@pytest.mark.parametrize(("change", "message"), [
    (("lr = 3e-3", 'lr = "fast"'), "lr must be a positive number"),
    (("seed = 0", "seed = 0\ncheckpoint_every = 0"), "checkpoint_every must be a positive"),
    (("seed = 0", 'seed = 0\ndevice = "cpu"'), "has no key 'device'"),
    (("epochs = 2", "epochs = -2"), "epochs must be a positive integer"),
    (("seed = 0", 'seed = 0\nengine = "lightnin"'), "Did you mean 'lightning'"),
    (("z_dim = 2", "z_dim = 2.5"), "z_dim must be a positive integer"),
])
def test_bad_config_values_are_refused_before_any_work(tmp_path, config, capsys, change,
                                                      message):
    config.write_text(config.read_text().replace(*change))
    status, err = run(["train", str(config), "--out", str(tmp_path / "run")], capsys)
    assert status == 2 and one_line(err) and message in err
    assert not (tmp_path / "run").exists()


def test_a_diverging_run_is_a_clear_error_that_keeps_nothing_broken(tmp_path, config, capsys):
    config.write_text(config.read_text().replace("lr = 3e-3", "lr = 1e6"))
    out = tmp_path / "run"
    status, err = run(["train", str(config), "--out", str(out), "--no-progress"], capsys)
    assert status == 2 and one_line(err) and "diverged at step" in err
    assert not (out / "checkpoint.pt").exists()  # no epoch ended well: nothing to keep


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A trained checkpoint, one with NaN weights, and a file where a folder should be."""
    folder = tmp_path_factory.mktemp("trained")
    config = folder / "tiny.toml"
    config.write_text(TINY)
    out = folder / "run"
    assert main(["train", str(config), "--out", str(out), "--no-progress"]) == 0
    saved = load_checkpoint(out / "checkpoint.pt")
    model = saved.build_model()
    with torch.no_grad():
        next(model.parameters()).fill_(float("nan"))
    save_checkpoint(folder / "nan.pt", config=saved.config, model=model)
    (folder / "file").write_text("not a folder")
    other = folder / "other.toml"
    other.write_text(TINY.replace('"dynamic_binarization"', '"binarize"'))
    assert main(["train", str(other), "--out", str(folder / "other"), "--no-progress"]) == 0
    return {"checkpoint": out / "checkpoint.pt", "nan_checkpoint": folder / "nan.pt",
            "other_data": folder / "other" / "checkpoint.pt",
            "config": config, "file": folder / "file", "folder": folder}


@pytest.mark.parametrize(("arguments", "message"), [
    (["evaluate", "{checkpoint}", "--n", "-350"], "--n must be at least 1"),
    (["evaluate", "{checkpoint}", "--k", "0"], "--k must be at least 1"),
    (["evaluate", "{checkpoint}", "--k", "100000000"], "hours of work"),
    (["sample", "{checkpoint}", "--n", "100000"], "from 1 to 1024"),
    (["sample", "{checkpoint}", "--out", "{folder}/samples.txt"], "must name an image"),
    (["evaluate", "{checkpoint}", "--device", "tpu"], "unknown device 'tpu'"),
    (["evaluate", "{checkpoint}", "--ais", "0"], "steps must be a positive integer"),
    (["evaluate", "{checkpoint}", "--bdmc", "0"], "--bdmc must be at least 1"),
    (["evaluate", "{checkpoint}", "--ais", "5", "--chains", "0"], "chains must be a positive"),
    (["evaluate", "{nan_checkpoint}"], "NaN or infinite weights"),
    (["train", "{config}", "--out", "{file}/run"], "cannot write into"),
    (["evaluate", "{checkpoint}", "{other_data}"], "trained on different data"),
    (["evaluate", "{checkpoint}", "--chains", "5"], "--chains sets up annealing"),
    (["evaluate", "{checkpoint}", "--start", "prior", "--chains", "4"],
     "--chains and --start set up annealing"),
    (["train", "{config}", "--out", "{folder}/evil", "--set", "train.lr=1e-3\n[evil]\nx=1"],
     "holds a line break"),
])
def test_bad_command_lines(trained, capsys, arguments, message):
    status, err = run([a.format(**trained) for a in arguments], capsys)
    assert status == 2 and one_line(err) and message in err, err


def test_debug_shows_the_traceback(tmp_path, capsys):
    with pytest.raises(FileNotFoundError):
        main(["evaluate", str(tmp_path / "absent.pt"), "--debug"])


def test_a_second_run_into_a_busy_folder_is_refused(tmp_path, config, capsys):
    out = tmp_path / "run"
    out.mkdir()
    with run_lock(out):
        status, err = run(["train", str(config), "--out", str(out)], capsys)
    assert status == 2 and "in use by another pvae train (pid " in err
    assert not (out / "checkpoint.pt").exists()
    assert main(["train", str(config), "--out", str(out), "--no-progress"]) == 0  # free again


def test_a_killed_run_leaves_no_stuck_lock_and_resumes(tmp_path, config):
    config.write_text(config.read_text().replace("epochs = 2", "epochs = 200"))
    out = tmp_path / "run"
    command = [sys.executable, "-m", "pvae.app.cli", "train", str(config), "--out", str(out),
               "--no-progress"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not (out / "checkpoint.pt").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)  # somewhere in a later epoch, perhaps mid-write
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    epoch = load_checkpoint(out / "checkpoint.pt").training.epoch
    assert 1 <= epoch < 200
    (out / ".checkpoint.pt.leftover.tmp").write_bytes(b"half a write")
    original = config.read_text()
    config.write_text(original.replace("lr = 3e-3", "lr = 1e-2"))
    done = subprocess.run([*command, "--resume"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 2 and "train.lr = 0.003 in the run, 0.01 now" in done.stderr
    config.write_text(original)
    assert main(["train", str(config), "--out", str(out), "--resume", "--no-progress"]) == 0
    assert load_checkpoint(out / "checkpoint.pt").training.epoch == 200
    assert not list(out.glob(".*.tmp"))


def test_an_autoencoders_ais_starts_from_the_prior_as_its_message_says(tmp_path, capsys):
    config = tmp_path / "autoencoder.toml"
    config.write_text(TINY.replace("z_dim = 2", 'z_dim = 2\nguide = "delta"'))
    assert main(["train", str(config), "--out", str(tmp_path / "run"), "--no-progress"]) == 0
    checkpoint = str(tmp_path / "run" / "checkpoint.pt")
    status, err = run(["evaluate", checkpoint, "--n", "4", "--k", "2", "--ais", "3"], capsys)
    assert status == 2 and "pvae evaluate --start prior" in err, err
    status, err = run(["evaluate", checkpoint, "--n", "4", "--k", "2", "--ais", "3",
                       "--start", "prior", "--chains", "2"], capsys)
    assert status == 0, err


def test_engine_pvae_on_the_command_line_replaces_a_configs_lightning_table(tmp_path, capsys):
    config = tmp_path / "lightning.toml"
    config.write_text(TINY.replace("seed = 0", 'seed = 0\nengine = { name = "lightning", '
                                               'devices = 2, strategy = "ddp" }'))
    status, err = run(["train", str(config), "--out", str(tmp_path / "run"), "--engine",
                       "pvae", "--no-progress"], capsys)
    assert status == 0, err


def test_ctrl_c_during_a_checkpoint_write_is_an_interruption_and_leaves_a_whole_file(
        tmp_path, config, capsys, monkeypatch):
    import os
    import signal

    import pvae.checkpoint

    real_save = torch.save

    def interrupted_save(payload, stream):
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C lands in the middle of the write
        real_save(payload, stream)

    monkeypatch.setattr(pvae.checkpoint.torch, "save", interrupted_save)
    out = tmp_path / "run"
    status, err = run(["train", str(config), "--out", str(out), "--no-progress"], capsys)
    assert status == 130 and "interrupted" in err, err
    monkeypatch.setattr(pvae.checkpoint.torch, "save", real_save)
    assert load_checkpoint(out / "checkpoint.pt").training is not None


def test_resuming_a_finished_run_says_so_and_changes_nothing(trained, capsys):
    out = trained["checkpoint"].parent
    before = {path.name: path.read_bytes() for path in out.iterdir() if path.is_file()}
    status = main(["train", str(trained["config"]), "--out", str(out), "--resume",
                   "--no-progress"])
    said = capsys.readouterr().out
    assert status == 0 and "found the run complete (it finished its 2 epochs)" in said, said
    assert "nothing was trained and no file changed" in said
    assert {path.name: path.read_bytes() for path in out.iterdir() if path.is_file()} == before


def test_resuming_a_diverged_run_is_one_line_and_changes_nothing(tmp_path, config, capsys,
                                                                 monkeypatch):
    from pvae.checkpoint import save_checkpoint as write

    out = tmp_path / "run"
    assert main(["train", str(config), "--out", str(out), "--no-progress"]) == 0
    saved = load_checkpoint(out / "checkpoint.pt")
    write(out / "checkpoint.pt", config=saved.config, model=saved.build_model(),
          training=saved.training, history=saved.history,
          stopped="training diverged at step 3 (the loss exploded)")
    before = (out / "checkpoint.pt").read_bytes()
    status, err = run(["train", str(config), "--out", str(out), "--resume"], capsys)
    assert status == 2 and one_line(err) and "diverged at step 3" in err, err
    assert (out / "checkpoint.pt").read_bytes() == before
