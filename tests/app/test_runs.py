import pytest
import torch

import pvae.app.runs as training
from pvae.app.runs import train
from pvae.checkpoint import load_checkpoint
from pvae.config import load_config

RAW = {"data": {"name": "digits", "transform": "dynamic_binarization", "validation": 40},
       "model": {"name": "vae", "x_shape": [64], "z_dim": 2, "prior": {"name": "mog",
                                                                      "components": 3},
                 "encoder": {"name": "mlp", "hidden": [16]},
                 "decoder": {"name": "mlp", "hidden": [16]}},
       "train": {"epochs": 5, "batch_size": 256, "lr": 3e-3, "seed": 4, "kl_warmup": 8}}


class Crash(Exception):
    pass


def crash_after_saving(monkeypatch, epoch):
    """Make training die right after the checkpoint of ``epoch`` is written."""
    real = training.save_checkpoint

    def save(path, **kwargs):
        written = real(path, **kwargs)
        if path.name == training.CHECKPOINT and kwargs["training"] is not None and \
                kwargs["training"].epoch == epoch:
            raise Crash
        return written

    monkeypatch.setattr(training, "save_checkpoint", save)


def test_resuming_after_a_crash_gives_the_uninterrupted_losses(tmp_path, monkeypatch):
    config = load_config(RAW)
    whole = train(config, tmp_path / "whole", progress=False)
    crash_after_saving(monkeypatch, 2)
    with pytest.raises(Crash):
        train(config, tmp_path / "broken", progress=False)
    monkeypatch.undo()
    assert load_checkpoint(tmp_path / "broken" / "checkpoint.pt").training.epoch == 2
    resumed = train(config, tmp_path / "broken", resume=True, progress=False)
    assert resumed.resumed_from_epoch == 2
    assert resumed.result.losses == whole.result.losses  # bit for bit, on the CPU
    assert resumed.result.validation_losses == whole.result.validation_losses
    assert resumed.history == whole.history
    ours = load_checkpoint(tmp_path / "whole" / "checkpoint.pt")
    theirs = load_checkpoint(tmp_path / "broken" / "checkpoint.pt")
    for name, value in ours.model.items():
        assert torch.equal(value, theirs.model[name]), name
    assert ours.training.epoch == 5 and len(ours.history.kl) == 5
    best = [load_checkpoint(tmp_path / run / "best.pt") for run in ("whole", "broken")]
    assert best[0].training.epoch == best[1].training.epoch
    assert best[0].history == best[1].history


def test_history_records_the_elbo_and_its_terms(tmp_path):
    run = train(load_config(RAW), tmp_path, progress=False)
    history = run.history
    assert history.epoch == [1, 2, 3, 4, 5]
    assert all(len(getattr(history, key)) == 5 for key in ("loss", "validation", "reconstruction",
                                                  "kl"))
    assert history.loss[-1] < history.loss[0]  # the objective improved
    assert all(kl > 0 for kl in history.kl)  # a KL between two different densities
    assert (tmp_path / "config.toml").is_file() and (tmp_path / "history.json").is_file()
    assert load_config(tmp_path / "config.toml") == load_config(RAW)


def test_the_best_epoch_on_validation_is_kept_beside_the_last(tmp_path):
    import pvae

    raw = {**RAW, "train": {**RAW["train"], "epochs": 40, "lr": 3e-2, "patience": 3}}
    run = train(load_config(raw), tmp_path, progress=False)
    curve = run.history.validation
    best = curve.index(min(curve))
    assert run.result.stopped_early and len(curve) == best + 1 + 3
    kept = load_checkpoint(tmp_path / "best.pt")
    assert kept.training.epoch == best + 1 and kept.history.validation == curve[:best + 1]
    model = pvae.load(tmp_path / "best.pt")
    last = pvae.load(tmp_path / "checkpoint.pt")
    assert load_checkpoint(tmp_path / "checkpoint.pt").training.epoch == len(curve)
    assert any(not torch.equal(a, b) for a, b in zip(model.state_dict().values(),
                                                     last.state_dict().values(), strict=True))


def test_nothing_is_overwritten_or_resumed_by_mistake(tmp_path):
    config = load_config({**RAW, "train": {**RAW["train"], "epochs": 1}})
    with pytest.raises(FileNotFoundError, match="nothing to resume"):
        train(config, tmp_path, resume=True, progress=False)
    train(config, tmp_path, progress=False)
    before = (tmp_path / "checkpoint.pt").read_bytes()
    with pytest.raises(FileExistsError, match="pass --resume"):
        train(config, tmp_path, progress=False)
    other = load_config({**RAW, "train": {**RAW["train"], "lr": 0.1}})
    with pytest.raises(ValueError, match=r"different config \(\[train\]"):
        train(other, tmp_path, resume=True, progress=False)
    assert (tmp_path / "checkpoint.pt").read_bytes() == before


def test_em_models_train_from_a_config_too(tmp_path):
    config = load_config({"data": {"name": "digits", "transform": "dequantize"},
                          "model": {"name": "gaussian_mixture", "n_components": 2,
                                    "covariance": "diag"},
                          "train": {"method": "em", "max_iter": 20, "seed": 0}})
    run = train(config, tmp_path, progress=False)
    assert run.result.method == "em"
    model = load_checkpoint(tmp_path / "checkpoint.pt").build_model()
    assert model.dim == 64
