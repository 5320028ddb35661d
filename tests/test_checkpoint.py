import pickle

import pytest
import torch

from pvae.checkpoint import CheckpointError, checksum, load_checkpoint, save_checkpoint
from pvae.config import load_config
from pvae.train.result import History
from pvae.train.state import TrainingState, capture_rng

CONFIG = {"model": {"name": "vae", "x_shape": [64], "z_dim": 2,
                    "encoder": {"name": "mlp", "hidden": [8]}}}


@pytest.fixture
def saved(tmp_path):
    config = load_config(CONFIG)
    model = config.build_model()
    optimizer = torch.optim.Adam(model.parameters())
    state = TrainingState(step=7, epoch=1, losses=[3.0, 2.0], optimizer=optimizer.state_dict(),
                          rng=capture_rng())
    path = save_checkpoint(tmp_path / "run" / "checkpoint.pt", config=config, model=model,
                           training=state, history=History(epoch=[1], loss=[2.5]))
    return path, config, model


def test_round_trip_through_the_safe_loader(saved):
    path, config, model = saved
    checkpoint = load_checkpoint(path)
    assert checkpoint.config == config
    assert checkpoint.training.step == 7 and checkpoint.training.losses == [3.0, 2.0]
    assert checkpoint.history == History(epoch=[1], loss=[2.5])
    rebuilt = checkpoint.build_model()
    for (name, ours), theirs in zip(model.state_dict().items(),
                                    rebuilt.state_dict().values(), strict=True):
        assert torch.equal(ours, theirs), name
    # the file holds nothing that needs unpickling arbitrary objects
    torch.load(path, weights_only=True)


def test_a_crash_while_writing_leaves_the_previous_checkpoint_whole(saved, monkeypatch):
    path, config, model = saved
    before = path.read_bytes()

    def crash(payload, stream):
        stream.write(b"half a checkpoint")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", crash)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(path, config=config, model=model)
    assert path.read_bytes() == before
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary left over


def test_truncated_foreign_and_missing_files_are_clear_errors(saved, tmp_path):
    path, _, _ = saved
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(CheckpointError, match="truncated.pt is not a readable checkpoint"):
        load_checkpoint(truncated)
    text = tmp_path / "notes.pt"
    text.write_text("hello")
    with pytest.raises(CheckpointError, match="not a readable checkpoint"):
        load_checkpoint(text)
    foreign = tmp_path / "foreign.pt"
    torch.save({"state_dict": {}}, foreign)
    with pytest.raises(CheckpointError, match="not a pvae checkpoint"):
        load_checkpoint(foreign)
    with pytest.raises(FileNotFoundError, match="no checkpoint at"):
        load_checkpoint(tmp_path / "absent.pt")


class Payload:
    def __reduce__(self):
        return (print, ("arbitrary code ran",))


def test_pickled_objects_are_refused_not_run(tmp_path, capsys):
    evil = tmp_path / "evil.pt"
    torch.save({"format": "pvae-checkpoint", "version": 1, "x": Payload()}, evil,
               pickle_protocol=pickle.HIGHEST_PROTOCOL)
    with pytest.raises(CheckpointError, match="not a readable checkpoint"):
        load_checkpoint(evil)
    assert "arbitrary code ran" not in capsys.readouterr().out


def test_other_versions_and_mismatched_parameters(saved, tmp_path):
    path, _, _ = saved
    payload = torch.load(path, weights_only=True)
    payload["version"] = 99
    torch.save(payload, tmp_path / "future.pt")
    with pytest.raises(CheckpointError, match="version 99"):
        load_checkpoint(tmp_path / "future.pt")
    payload["version"] = 1
    payload["model"] = {"nothing": torch.zeros(1)}
    payload["checksum"] = checksum(payload["model"])  # whole, but not this model's
    torch.save(payload, tmp_path / "odd.pt")
    with pytest.raises(CheckpointError, match="do not fit the model"):
        load_checkpoint(tmp_path / "odd.pt").build_model()


def test_a_checkpoint_is_written_with_the_mode_the_umask_gives(tmp_path):
    import os
    import stat


    config = load_config({"model": {"name": "gaussian", "dim": 2}})
    previous = os.umask(0o022)
    try:
        path = save_checkpoint(tmp_path / "c.pt", config=config, model=config.build_model())
    finally:
        os.umask(previous)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_save_then_load_gives_the_same_model_back(tmp_path):
    import pvae

    x = pvae.data.binarize(pvae.data.digits().train[:200])
    vae = pvae.VAE(x_shape=[64], z_dim=2, prior={"name": "mog", "components": 3})
    result = pvae.fit(vae, x, steps=3, progress=False)
    path = pvae.save(vae, tmp_path / "vae.pt", history=result.history)
    again = pvae.load(path)
    assert type(again) is type(vae)
    for (name, ours), theirs in zip(vae.state_dict().items(), again.state_dict().values(),
                                    strict=True):
        assert torch.equal(ours, theirs), name
    scores = []
    for model in (vae, again):
        torch.manual_seed(0)
        scores.append(pvae.elbo(model, x[:20], num_particles=4).value)
    assert scores[0] == scores[1]
    assert load_checkpoint(path).history == result.history
    # a mixture remembers the dimension it learnt from the data
    mixture = pvae.GaussianMixture(2)
    pvae.fit(mixture, pvae.data.digits().train[:200, 20:23], method="em", progress=False)
    saved = pvae.save(mixture, tmp_path)
    assert saved == tmp_path / "checkpoint.pt"
    torch.testing.assert_close(pvae.load(saved).locs, mixture.locs)


def test_save_refuses_what_it_cannot_rebuild(tmp_path):
    import pvae

    with pytest.raises(TypeError, match="got dict"):
        pvae.save({"w": torch.zeros(1)}, tmp_path / "x.pt")
    from pvae.priors.normal import StandardNormal

    hand_made = pvae.VAE(x_shape=[4], z_dim=1, prior=StandardNormal())
    with pytest.raises(ValueError, match="built by hand"):
        pvae.save(hand_made, tmp_path / "x.pt")
    with pytest.raises(TypeError, match="history must be"):
        pvae.save(pvae.Gaussian(2), tmp_path / "x.pt", history=[1.0])
    assert not list(tmp_path.iterdir())  # nothing written


def test_save_refuses_a_diverged_model(tmp_path):
    import pvae

    gaussian = pvae.Gaussian(2)
    with torch.no_grad():
        next(gaussian.parameters()).fill_(float("nan"))
    with pytest.raises(ValueError, match="hold NaN or infinite values"):
        pvae.save(gaussian, tmp_path / "x.pt")
    assert not (tmp_path / "x.pt").exists()


def test_save_refuses_a_model_changed_by_hand_that_load_could_not_rebuild(tmp_path):
    import pvae

    added = pvae.Gaussian(2)
    added.extra = torch.nn.Parameter(torch.zeros(3))
    with pytest.raises(ValueError, match="the model's extra are not what its spec 'gaussian'"):
        pvae.save(added, tmp_path / "added.pt")
    replaced = pvae.VAE(x_shape=[4], z_dim=1)
    replaced.model.decoder = torch.nn.Linear(1, 4)
    with pytest.raises(ValueError, match="a part replaced, by hand"):
        pvae.save(replaced, tmp_path / "replaced.pt")
    swapped = pvae.VAE(x_shape=[4], z_dim=1)  # same tensors, another kind of part
    swapped.model.likelihood = pvae.VAE(x_shape=[4], z_dim=1,
                                        likelihood="continuous_bernoulli").model.likelihood
    with pytest.raises(ValueError, match=r"model.likelihood \(ContinuousBernoulli\)"):
        pvae.save(swapped, tmp_path / "swapped.pt")
    assert not list(tmp_path.iterdir())  # refused before anything was written


def test_a_float64_model_comes_back_float64(tmp_path):
    import pvae

    model = pvae.VAE(x_shape=[4], z_dim=1).double()
    again = pvae.load(pvae.save(model, tmp_path / "f64.pt"))
    assert {value.dtype for value in again.state_dict().values()} == {torch.float64}
    for (name, ours), theirs in zip(model.state_dict().items(), again.state_dict().values(),
                                    strict=True):
        assert torch.equal(ours, theirs), name


@pytest.mark.parametrize("spelling", ["{folder}/", "{folder}"])
def test_a_folder_is_a_folder_for_save_and_load_alike(tmp_path, spelling):
    import pvae

    folder = tmp_path / "missing_dir"
    if not spelling.endswith("/"):
        folder.mkdir()
    path = pvae.save(pvae.Gaussian(2), spelling.format(folder=folder))
    assert path == folder / "checkpoint.pt" and path.is_file()
    for again in (str(folder), f"{folder}/", folder):
        assert isinstance(pvae.load(again), pvae.Gaussian)
    assert load_checkpoint(folder).config.model["name"] == "gaussian"


WRITER = """
import pathlib, sys, time
import pvae
model = pvae.VAE(x_shape=[64], z_dim=2)
folder = pathlib.Path(sys.argv[1]).parent
(folder / f"ready-{sys.argv[2]}").touch()
while len(list(folder.glob("ready-*"))) < 2:  # both start writing together
    time.sleep(0.01)
for _ in range(100):
    pvae.save(model, sys.argv[1])
"""


def test_two_processes_saving_to_one_path_leave_each_other_alone(tmp_path):
    import subprocess
    import sys

    import pvae

    path = tmp_path / "shared.pt"
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(path), str(number)],
                                stderr=subprocess.PIPE, text=True) for number in range(2)]
    errors = [writer.communicate(timeout=300)[1] for writer in writers]
    assert [writer.returncode for writer in writers] == [0, 0], errors
    assert isinstance(pvae.load(path), pvae.VAE)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ready-0", "ready-1", "shared.pt"]


def test_a_dead_writers_temporary_is_removed_a_live_ones_kept(tmp_path):
    import os

    from pvae.checkpoint import remove_stale_temporaries

    path = tmp_path / "c.pt"
    mine = tmp_path / f".c.pt.{os.getpid()}-abc.tmp"
    dead = tmp_path / ".c.pt.999999999-abc.tmp"  # no such process
    old_style = tmp_path / ".c.pt.xyz.tmp"
    for leftover in (mine, dead, old_style):
        leftover.write_bytes(b"half")
    assert remove_stale_temporaries(path) == sorted([dead, old_style])
    assert mine.exists()
