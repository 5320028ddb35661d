import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import pvae
from pvae.data import binarize, digits, dynamic_binarization

pytest.importorskip("lightning", reason="the Lightning engine needs pip install "
                                        "'pvae-pyro[lightning]'")

WORKER = Path(__file__).with_name("lightning_ddp_worker.py")


@pytest.mark.slow
def test_two_cpu_processes_train_one_vae_under_ddp(tmp_path):
    environment = {**os.environ, "PYTHONWARNINGS": "ignore"}
    done = subprocess.run([sys.executable, str(WORKER), str(tmp_path)], env=environment,
                          capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    ranks = [torch.load(tmp_path / f"rank-{r}.pt", weights_only=True) for r in (0, 1)]
    assert [r["rank"] for r in ranks] == [0, 1] and ranks[0]["world"] == 2
    for rank in ranks:  # finite and decreasing (first epoch against the last)
        losses = torch.tensor(rank["losses"])
        assert torch.isfinite(losses).all() and len(losses) == 4 * 6
        assert losses[-6:].mean() < losses[:6].mean() - 1.0
    # every epoch, each process saw its own half of the 600 rows, and together all of them
    for epoch in range(4):
        shards = [set(r["seen"][epoch * 300:(epoch + 1) * 300]) for r in ranks]
        assert len(shards[0]) == len(shards[1]) == 300
        assert not shards[0] & shards[1] and len(shards[0] | shards[1]) == 600
    assert ranks[0]["seen"][:300] != ranks[0]["seen"][300:600]  # reshuffled between epochs
    for name, value in ranks[0]["parameters"].items():
        assert torch.equal(value, ranks[1]["parameters"][name]), name


def small_vae():
    torch.manual_seed(0)
    return pvae.VAE((64,), 3, encoder={"name": "mlp", "hidden": [16]},
                    decoder={"name": "mlp", "hidden": [16]})


def test_one_process_through_lightning_equals_pvae_fit():
    x = digits().train[:512]
    options = {"epochs": 3, "batch_size": 128, "lr": 1e-2, "lr_decay": 0.3, "seed": 5,
               "transform": dynamic_binarization, "validation": x[:64], "kl_warmup": 5,
               "progress": False, "device": "cpu"}
    ours, theirs = small_vae(), small_vae()
    expected = pvae.fit(ours, x, **options)
    result = pvae.fit(theirs, x, engine="lightning", **options)
    assert result.losses == pytest.approx(expected.losses, rel=1e-6)
    assert result.validation_losses == pytest.approx(expected.validation_losses, rel=1e-6)
    for name, value in ours.state_dict().items():
        torch.testing.assert_close(theirs.state_dict()[name], value, rtol=1e-5, atol=1e-6)


def test_off_a_terminal_a_lightning_fit_writes_one_line_per_epoch(capsys, monkeypatch):
    monkeypatch.setattr("pvae.progress.EPOCH_LINE_SECONDS", 0.0)  # every epoch, however quick
    x = digits().train[:256]
    result = pvae.fit(small_vae(), binarize(x), engine="lightning", epochs=3, batch_size=128,
                      seed=0, device="cpu")  # progress on; pytest's stderr is no terminal
    lines = [line for line in capsys.readouterr().err.splitlines()
             if line.startswith("lightning fit: epoch")]
    assert [line.split(" (")[0] for line in lines] == [
        f"lightning fit: epoch {epoch}/3" for epoch in (1, 2, 3)]
    last_epoch = sum(result.losses[-2:]) / 2
    assert f"elbo={-last_epoch:.4f} nats/pt" in lines[-1]


def test_the_compiled_elbo_is_compiled_through_lightning_too():
    x = binarize(digits().train[:256])
    options = {"epochs": 2, "batch_size": 64, "lr": 1e-2, "seed": 5, "progress": False,
               "device": "cpu"}
    runs = []
    for engine in ("pvae", "lightning"):
        torch.manual_seed(0)
        vae = pvae.VAE((64,), 3, encoder={"name": "mlp", "hidden": [16]},
                       decoder={"name": "mlp", "hidden": [16]},
                       objective={"name": "elbo", "compile": True})
        runs.append(pvae.fit(vae, x, engine=engine, **options).losses)
        objective = vae.objective()  # every step through the graph: Lightning's backward too
        assert objective.closed_form.compiled and objective.closed_form.compilations == 1
        assert objective.closed_calls == 8 and objective.closed_reason == ""
    assert runs[1] == pytest.approx(runs[0], rel=1e-6)


def test_lightning_settings_need_the_lightning_engine():
    with pytest.raises(ValueError, match="engine 'pvae' has no option 'devices'"):
        pvae.fit(small_vae(), torch.zeros(4, 64), engine={"name": "pvae", "devices": 2})
    with pytest.raises(ValueError, match="unknown engine 'lighting'"):
        pvae.fit(small_vae(), torch.zeros(4, 64), engine="lighting")
    with pytest.raises(ValueError, match="does not take n_init > 1, time_limit"):
        pvae.fit(pvae.Gaussian(), torch.randn(20), engine="lightning", n_init=2,
                 time_limit=1.0)


def test_pvae_train_through_lightning_checkpoints_and_resumes(tmp_path):
    from pvae.app.cli import main
    from pvae.checkpoint import load_checkpoint

    config = tmp_path / "tiny.toml"
    config.write_text(
        '[data]\nname = "digits"\ntransform = "dynamic_binarization"\nvalidation = 50\n'
        '[model]\nname = "vae"\nx_shape = [64]\nz_dim = 2\n'
        'encoder = { name = "mlp", hidden = [16] }\ndecoder = { name = "mlp", hidden = [16] }\n'
        '[train]\nepochs = 2\nbatch_size = 256\nlr = 3e-3\nseed = 0\n')
    out = tmp_path / "run"
    command = ["train", str(config), "--out", str(out), "--engine", "lightning",
               "--no-progress", "--device", "cpu"]
    assert main(command) == 0
    assert (out / "lightning" / "last.ckpt").is_file()
    saved = load_checkpoint(out / "checkpoint.pt")
    assert saved.config.train["engine"] == "lightning"
    assert saved.history.epoch == [1, 2] and len(saved.history.validation) == 2
    assert len(saved.history.kl) == 2
    original = config.read_text()
    config.write_text(original.replace("lr = 3e-3", "lr = 1e-2"))
    assert main([*command, "--resume"]) == 2  # a different config is refused ...
    config.write_text(original)
    assert main([*command, "--resume"]) == 0  # ... the same one resumes (nothing left to do)
    # a run Lightning finished keeps no training state: more epochs are refused, not ignored
    config.write_text(original.replace("epochs = 2", "epochs = 4"))
    assert main([*command, "--resume"]) == 2
    assert load_checkpoint(out / "checkpoint.pt").history.epoch == [1, 2]


def test_pvae_works_without_lightning_installed():
    blocked = (
        "import sys; sys.modules['lightning'] = None; sys.modules['lightning.pytorch'] = None\n"
        "import torch, pvae\n"
        "g = pvae.Gaussian(); pvae.fit(g, torch.randn(50), steps=20, progress=False)\n"
        "try:\n"
        "    pvae.fit(pvae.Gaussian(), torch.randn(50), steps=2, engine='lightning')\n"
        "except ImportError as error:\n"
        "    print(error)\n")
    done = subprocess.run([sys.executable, "-c", blocked], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "pip install 'pvae-pyro[lightning]'" in done.stdout


@pytest.mark.parametrize(("settings", "message"), [
    ({"devices": -3}, "devices must be a number of devices from 1"),
    ({"devices": "abc"}, "devices must be a number of devices from 1"),
    ({"devices": 10**12}, "devices must be a number of devices from 1"),
    ({"devices": True}, "devices must be a number of devices from 1"),
    ({"num_nodes": 0}, "num_nodes must be a number of machines"),
    ({"strategy": "nope"}, "unknown lightning strategy 'nope'"),
    ({"precision": "99"}, "unknown lightning precision '99'"),
])
def test_lightning_settings_are_checked_by_pvae_before_lightning_sees_them(settings, message):
    with pytest.raises(ValueError, match=message) as caught:
        pvae.train.FitOptions(engine={"name": "lightning", **settings})
    assert "pvae" in caught.traceback[-1].path.parts


def test_the_precisions_pvae_accepts_are_lightnings():
    connector = pytest.importorskip("lightning.fabric.connector")
    from typing import get_args

    from pvae.train.engines.lightning import PRECISIONS

    assert set(PRECISIONS) == set(get_args(connector._PRECISION_INPUT_STR))


def test_the_fit_reports_its_real_wall_time():
    import time

    x = binarize(digits().train[:256])
    started = time.perf_counter()
    result = pvae.fit(small_vae(), x, epochs=20, batch_size=32, engine="lightning",
                      progress=False, device="cpu")  # a second or two of steps
    measured = time.perf_counter() - started
    assert 0 < result.seconds <= measured
    assert result.seconds > 0.6 * measured, (result.seconds, measured)  # (less the checks)
