"""The training log: history.csv after every epoch, TensorBoard scalars when asked."""

import csv
import importlib.util

import pytest

from pvae.app.runs import train
from pvae.config import ConfigError, load_config

from .test_runs import RAW, Crash, crash_after_saving

needs_tensorboard = pytest.mark.skipif(importlib.util.find_spec("tensorboard") is None,
                                       reason="tensorboard is not installed")


def rows(path):
    with path.open() as stream:
        return list(csv.DictReader(stream))


def test_the_csv_holds_every_finished_epoch_even_when_the_run_dies(tmp_path, monkeypatch):
    crash_after_saving(monkeypatch, 3)
    with pytest.raises(Crash):
        train(load_config(RAW), tmp_path, progress=False)
    monkeypatch.undo()
    written = rows(tmp_path / "history.csv")
    assert [row["epoch"] for row in written] == ["1", "2", "3"]
    assert set(written[0]) == {"epoch", "loss", "validation", "reconstruction", "kl"}
    resumed = train(load_config(RAW), tmp_path, resume=True, progress=False)
    again = rows(tmp_path / "history.csv")
    assert [float(row["validation"]) for row in again] == resumed.history.validation


def scalars(folder):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(folder)).Reload()
    return {tag: [(e.step, e.value) for e in events.Scalars(tag)]
            for tag in events.Tags()["scalars"]}


@needs_tensorboard
def test_tensorboard_gets_each_curve_once_per_epoch_across_a_resume(tmp_path, monkeypatch):
    raw = {**RAW, "train": {**RAW["train"], "tensorboard": True}}
    crash_after_saving(monkeypatch, 2)
    with pytest.raises(Crash):
        train(load_config(raw), tmp_path, progress=False)
    monkeypatch.undo()
    run = train(load_config(raw), tmp_path, resume=True, progress=False)
    logged = scalars(tmp_path / "tensorboard")
    assert [step for step, _ in logged["objective/validation"]] == [1, 2, 3, 4, 5]
    assert [value for _, value in logged["objective/validation"]] == pytest.approx(
        run.history.validation, rel=1e-6)
    assert [value for _, value in logged["elbo_terms/kl"]] == pytest.approx(run.history.kl,
                                                                            rel=1e-6)


def test_tensorboard_is_a_boolean_and_needs_its_package(monkeypatch):
    with pytest.raises(ConfigError, match="true or false"):
        load_config({**RAW, "train": {**RAW["train"], "tensorboard": "yes"}})
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *rest: None if name == "tensorboard" else real(name, *rest))
    with pytest.raises(ConfigError, match=r"pip install 'pvae\[tensorboard\]'"):
        load_config({**RAW, "train": {**RAW["train"], "tensorboard": True}})
