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
    with pytest.raises(ValueError, match=r"different config: train.lr = 0.003 in the run, 0.1"):
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


def files_of(folder):
    """Every file of the run in ``folder`` (not its lock) with its bytes and time."""
    return {path.name: (path.read_bytes(), path.stat().st_mtime_ns)
            for path in sorted(folder.iterdir())
            if path.is_file() and path.name != ".pvae-train.lock"}


def diverging_at_epoch(monkeypatch, epoch):
    """Make training diverge right after the checkpoint of ``epoch`` is written."""
    from pvae.train import DivergenceError

    real = training._fit

    def fit(config, model, data, **options):
        inner = options["on_epoch_end"]

        def on_epoch_end(state):
            inner(state)
            if state.epoch == epoch:
                raise DivergenceError(f"training diverged at step {state.step} (the loss "
                                      "exploded); the parameters are back. Lower the rate")

        return real(config, model, data, **{**options, "on_epoch_end": on_epoch_end})

    monkeypatch.setattr(training, "_fit", fit)


@pytest.mark.parametrize("how", ["finished", "stopped early", "diverged", "em"])
def test_resuming_a_run_that_ended_for_good_is_refused_and_touches_nothing(tmp_path, how,
                                                                           monkeypatch):
    from pvae.app.runs import FinishedRunError
    from pvae.train import DivergenceError

    raw = {**RAW, "train": {**RAW["train"], "epochs": 3, "kl_warmup": 0}}
    if how == "stopped early":
        raw = {**raw, "train": {**raw["train"], "epochs": 40, "lr": 3e-2, "patience": 1}}
    if how == "em":
        raw = {"data": {"name": "digits", "transform": "dequantize"},
               "model": {"name": "gaussian_mixture", "n_components": 2, "covariance": "diag"},
               "train": {"method": "em", "max_iter": 5, "seed": 0}}
    config = load_config(raw)
    if how == "diverged":
        diverging_at_epoch(monkeypatch, 2)
        with pytest.raises(DivergenceError):
            train(config, tmp_path, progress=False)
        monkeypatch.undo()
    else:
        run = train(config, tmp_path, progress=False)
        assert run.result.stopped_early == (how == "stopped early")
    stopped = load_checkpoint(tmp_path / "checkpoint.pt").stopped
    assert how != "em" and how.split()[0] in stopped or how == "em" and "EM" in stopped
    before = files_of(tmp_path)
    with pytest.raises(FinishedRunError, match="nothing to resume, and nothing was changed"):
        train(load_config(raw), tmp_path, resume=True, progress=False)
    assert files_of(tmp_path) == before


def test_a_run_whose_time_ran_out_resumes(tmp_path, monkeypatch):
    raw = {**RAW, "train": {**RAW["train"], "epochs": 3, "time_limit": 1e-9}}
    run = train(load_config(raw), tmp_path, progress=False)
    assert run.result.steps < 3 * 2  # cut short, after its first step
    assert load_checkpoint(tmp_path / "checkpoint.pt").stopped is None
