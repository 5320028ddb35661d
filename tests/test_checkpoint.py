import pickle

import pytest
import torch

from pvae.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
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
