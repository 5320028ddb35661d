"""Training from a config, with a checkpoint after every epoch and exact resumption.

Either engine: pvae's own loop writes ``OUT/checkpoint.pt`` every ``checkpoint_every``
epochs and resumes from it bit for bit, and, when there is validation data, ``OUT/best.pt``
at every epoch whose validation ELBO beats all earlier ones; Lightning writes
``OUT/lightning/last.ckpt`` every epoch and resumes from that, and its first process writes
``OUT/checkpoint.pt`` at the end. Both leave the training log of :mod:`pvae.app.logs`.

A run that ended for good — it finished its epochs or steps, stopped early on its validation
ELBO, or diverged — says so in its checkpoint (:attr:`pvae.checkpoint.Checkpoint.stopped`),
and ``--resume`` refuses it without touching a file: there is nothing to continue (a
diverged run would take the same steps again).
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ..checkpoint import Checkpoint, load_checkpoint, remove_stale_temporaries, save_checkpoint
from ..config import Config, ConfigError, read_config
from ..data import PreparedData
from ..train import (
    DEFAULT_STEPS,
    DivergenceError,
    FitResult,
    History,
    TrainingState,
    engines,
    fit,
)
from .lock import run_lock, writable_folder
from .logs import TrainingLog, write_csv
from .resume import (
    CONFIG_FILE,
    TrainingInterrupted,
    differences,
    extends,
    lightning_config,
    resume_command,
)

__all__ = ["BEST", "CHECKPOINT", "FinishedRunError", "TrainingRun", "train"]

CHECKPOINT = "checkpoint.pt"
#: the parameters of the epoch with the best validation ELBO so far (pvae's own loop)
BEST = "best.pt"
LIGHTNING_CHECKPOINT = Path("lightning") / "last.ckpt"
#: rows whose ELBO terms are recorded after every epoch when there is no validation set
TERM_ROWS = 1000


#: how :attr:`~pvae.checkpoint.Checkpoint.stopped` begins for a run that is complete
COMPLETE = ("finished", "stopped early")


class FinishedRunError(ValueError):
    """``--resume`` of a run that ended for good: finished, stopped early, or diverged.

    Attributes
    ----------
    ended : str
        How it ended (the checkpoint's ``stopped``).
    complete : bool
        Whether it is complete (finished, or stopped early as asked): ``pvae train
        --resume`` says so and succeeds; a diverged run is an error.
    epoch : int
        The epochs it holds.
    extendable : bool
        Whether more epochs (``--set train.epochs=N``) would continue it: not a run that
        holds no training state (one Lightning finished, an EM fit).
    """

    def __init__(self, message: str, *, ended: str, complete: bool, epoch: int,
                 extendable: bool = False) -> None:
        super().__init__(message)
        self.ended, self.complete, self.epoch = ended, complete, epoch
        self.extendable = extendable


@dataclass(frozen=True)
class TrainingRun:
    """What :func:`train` did: the trained model, the fit, its history and where it is saved."""

    model: torch.nn.Module
    result: FitResult
    history: History
    checkpoint: Path
    resumed_from_epoch: int
    #: False on every process but one under distributed training (they need not report)
    is_global_zero: bool = True


def _term_rows(data: PreparedData) -> torch.Tensor:
    if data.validation is not None:
        return data.validation
    rows = data.train[:TERM_ROWS]
    return data.transform(rows) if data.transform else rows


def _is_best(validation: list[float]) -> bool:
    """Whether the last epoch's validation loss is the lowest so far (strictly)."""
    return bool(validation) and all(validation[-1] < earlier for earlier in validation[:-1])


def _refuse_other_config(source: Path, saved: dict[str, Any] | None, given: Config, *,
                         done: int | None = None) -> None:
    """Raise ``ValueError`` naming each key in which ``given`` differs from the run's config.

    The seed is not compared (a resumed run takes its random state from the checkpoint), and
    ``train.epochs`` may rise (to extend the run) but not fall below the ``done`` epochs.
    """
    if saved is None:
        return
    changed = differences(saved, given, done=done)
    if changed:
        raise ValueError(f"{source} was trained from a different config: {'; '.join(changed)}. "
                         "Resume without a config (pvae train --resume --out DIR reads the "
                         "run's own; only --set train.epochs=N may change), or train into "
                         "another --out")


def train(config: Config, out: str | Path, *, resume: bool = False, device: str = "auto",
          progress: bool = True) -> TrainingRun:
    """Fit the config's model to its data, checkpointing into ``out``.

    A checkpoint (model, optimiser, RNG states, config, history) is written atomically every
    ``checkpoint_every`` epochs and at the end. With ``resume=True`` training continues from
    that checkpoint so that, on the CPU, the losses equal an uninterrupted run's. The model
    is the config's own (built once, when the config was checked).

    Raises
    ------
    FileExistsError
        When ``out`` already holds a checkpoint and ``resume`` is off (nothing is
        overwritten).
    FileNotFoundError
        When ``resume`` is on and there is no checkpoint to continue.
    ValueError
        When the checkpoint was trained from a different config.
    FinishedRunError
        When ``resume`` is on and the run ended for good (finished, stopped early,
        diverged): nothing is trained and no file changes.
    """
    out = Path(out)
    if resume and not out.is_dir():
        raise FileNotFoundError(f"nothing to resume: {out} does not exist; run without "
                                "--resume to start training")
    with run_lock(writable_folder(out)):
        return _train_locked(config, out, resume=resume, device=device, progress=progress)


def _train_locked(config: Config, out: Path, *, resume: bool, device: str,
                  progress: bool) -> TrainingRun:
    engine = engines.resolve(config.train.get("engine", "pvae"))
    lightning = engine.name == "lightning"
    path = out / (LIGHTNING_CHECKPOINT if lightning and resume else CHECKPOINT)
    saved: Checkpoint | None = None
    if resume and not path.is_file() and (out / CONFIG_FILE).is_file():
        # interrupted before its first checkpoint: start it again from its config
        _refuse_other_config(out / CONFIG_FILE, read_config(out / CONFIG_FILE), config)
        resume = False
    elif resume:
        if not path.is_file():
            raise FileNotFoundError(f"nothing to resume: no {path.relative_to(out)} in {out}; "
                                    "run without --resume to start training")
        if lightning:
            _refuse_other_config(path, lightning_config(path), config)
            if (out / CHECKPOINT).is_file():  # Lightning writes it when the run is done
                _refuse_finished(out / CHECKPOINT, load_checkpoint(out / CHECKPOINT), config)
        else:
            saved = load_checkpoint(path)
            _refuse_other_config(path, saved.config.to_dict(), config,
                                 done=saved.training.epoch if saved.training else None)
            _refuse_finished(path, saved, config)
    elif (out / CHECKPOINT).exists():
        raise FileExistsError(f"{out} already holds a checkpoint; pass --resume to continue "
                              "it, or choose another --out")
    (out / CONFIG_FILE).write_text(config.to_toml())  # from the first step: resumable
    remove_stale_temporaries(out / CHECKPOINT)
    model = config.build_model()
    if saved is not None:
        saved.load_into(model)
    data = config.prepare_data()
    if lightning:
        return _train_with_lightning(config, model, data, engine, out, resume=resume,
                                     device=device, progress=progress)
    return _train_here(config, model, data, out, saved, device=device, progress=progress)


def _refuse_finished(path: Path, saved: Checkpoint, config: Config) -> None:
    """Raise :class:`FinishedRunError` if the run in ``path`` ended for good.

    A finished or early-stopped run that ``config`` gives more epochs continues.
    """
    ended = saved.stopped or (None if saved.training is not None else
                              "cannot be continued (it holds no training state: an EM fit, "
                              "or a run that ended before its first epoch did)")
    if ended is None:
        return
    complete = ended.startswith(COMPLETE)
    if complete and saved.training is not None and extends(saved.config.to_dict(), config):
        return
    epochs = saved.training.epoch if saved.training else len(saved.history.epoch)
    extendable = complete and saved.training is not None
    asked = config.train.get("epochs")
    if complete and not extendable and asked is not None and asked > epochs:
        raise FinishedRunError(  # (more epochs would be silently ignored: say so)
            f"{path} holds a run that {ended} and keeps no training state to continue from: "
            f"it cannot be extended to {asked} epochs; train anew into another --out",
            ended=ended, complete=False, epoch=epochs)
    more = (f"; --set train.epochs=N (more than {saved.config.train.get('epochs')}) extends "
            "it" if extendable and saved.config.train.get("epochs") else "")
    raise FinishedRunError(
        f"{path} holds a run that {ended}: there is nothing to resume, and nothing was "
        f"changed. Evaluate it (pvae evaluate {path}), or train anew, with other settings, "
        f"into another --out{more}", ended=ended, complete=complete, epoch=epochs,
        extendable=extendable)


def _planned_steps(config: Config, state: TrainingState | None) -> float:
    """The SVI steps the config asks for (infinite when no epoch ended to tell their length)."""
    epochs = config.train.get("epochs")
    if epochs is None:
        return config.train.get("steps") or DEFAULT_STEPS
    if state is None or not state.epoch:
        return float("inf")
    return epochs * (state.step // state.epoch)


def _how_it_ended(config: Config, result: FitResult, state: TrainingState | None) -> str | None:
    """Why a fit that returned ended for good, or ``None`` when a time limit cut it short."""
    if result.method == "em":
        return f"finished (an EM fit of {result.steps} iterations)"
    if result.stopped_early:
        patience = config.train.get("patience")
        return (f"stopped early at epoch {len(result.history.epoch)} (its validation ELBO had "
                f"not improved for patience = {patience} epochs)")
    if config.train.get("time_limit") is not None and \
            result.steps < _planned_steps(config, state):
        return None  # its time ran out: --resume continues it
    done = config.train.get("epochs")
    return f"finished its {done} epochs" if done else f"finished its {result.steps} steps"


def _mark_diverged(path: Path, config: Config, model: torch.nn.Module,
                   error: DivergenceError) -> None:
    """Write into the last checkpoint that its run diverged after it (same parameters)."""
    if not path.is_file():
        return
    saved = load_checkpoint(path)
    saved.load_into(model)
    save_checkpoint(path, config=config, model=model, training=saved.training,
                    history=saved.history, stopped=str(error).split(";")[0])


def _fit(config: Config, model: torch.nn.Module, data: PreparedData, **options: Any
         ) -> FitResult:
    settings = {**config.fit_options(), **options}
    if settings.get("method", "svi") == "em":  # EM reads none of SVI's per-epoch settings
        if data.transform is not None:
            raise ConfigError(f"[data] transform = {config.data.get('transform')!r} draws anew "
                              "for every SVI minibatch; EM fits the data as it is: use a fixed "
                              "transform (binarize, dequantize) or method = 'svi'")
        settings = {key: value for key, value in settings.items()
                    if key not in ("resume", "on_epoch_end")}
        return fit(model, data.train, **settings)
    return fit(model, data.train, transform=data.transform, validation=data.validation,
               terms_on=_term_rows(data), **settings)


def _train_here(config: Config, model: torch.nn.Module, data: PreparedData, out: Path,
                saved: Checkpoint | None, *, device: str, progress: bool) -> TrainingRun:
    """Pvae's own loop, with its checkpoint every ``checkpoint_every`` epochs."""
    path = out / CHECKPOINT
    every = config.setting("checkpoint_every")
    state = saved.training if saved is not None else None
    last: dict[str, Any] = {}
    log = TrainingLog(out, tensorboard=config.setting("tensorboard"),
                      first_epoch=state.epoch if state is not None else 0)
    if saved is not None and _is_best(saved.history.validation):
        # the run died between its checkpoint and best.pt: the checkpoint is that epoch
        save_checkpoint(out / BEST, config=config, model=model, training=state,
                        history=saved.history)

    def on_epoch_end(epoch_state: TrainingState) -> None:
        last.update(state=epoch_state, model=copy.deepcopy(model.state_dict()), saved=False)
        log.update(epoch_state.history)
        if epoch_state.epoch % every == 0:  # first the point a resumed run continues from
            save_checkpoint(path, config=config, model=model, training=epoch_state,
                            history=epoch_state.history)
            last["saved"] = True
        if _is_best(epoch_state.history.validation):
            save_checkpoint(out / BEST, config=config, model=model, training=epoch_state,
                            history=epoch_state.history)

    try:
        result = _fit(config, model, data, device=device, progress=progress, resume=state,
                      on_epoch_end=on_epoch_end)
    except DivergenceError as error:
        _mark_diverged(path, config, model, error)
        raise
    except KeyboardInterrupt:
        done = last["state"].epoch if last else state.epoch if state is not None else 0
        if last and not last["saved"]:  # the last epoch that ended is kept, not lost
            model.load_state_dict(last["model"])
            save_checkpoint(path, config=config, model=model, training=last["state"],
                            history=last["state"].history)
        kept = (f"{path} holds epoch {done}" if done else
                f"no epoch had ended; {out / CONFIG_FILE} holds its config")
        raise TrainingInterrupted(f"in epoch {done + 1}; {kept}. Continue with: "
                                  f"{resume_command(out)}") from None
    finally:
        log.close()
    history = result.history
    ended = _how_it_ended(config, result, last.get("state", state))
    if not last:  # EM, or no epoch finished: save the model as it stands
        save_checkpoint(path, config=config, model=model, training=state, history=history,
                        stopped=ended)
    elif not last["saved"] or ended is not None:  # the last epoch end, its parameters
        model.load_state_dict(last["model"])
        save_checkpoint(path, config=config, model=model, training=last["state"],
                        history=history, stopped=ended)
    _write_beside(out, config, history)
    return TrainingRun(model, result, history, path, state.epoch if state is not None else 0)


def _train_with_lightning(config: Config, model: torch.nn.Module, data: PreparedData,
                          engine: Any, out: Path, *, resume: bool, device: str,
                          progress: bool) -> TrainingRun:
    """The same config through Lightning: its ModelCheckpoint writes ``out/lightning``."""
    engine.checkpoint_to(out / "lightning", resume=resume, config=config.to_dict())
    result = _fit(config, model, data, device=device, progress=progress, engine=engine)
    path = out / CHECKPOINT
    if engine.trainer.is_global_zero:  # one process writes; the others hold the same
        save_checkpoint(path, config=config, model=model, history=result.history,
                        stopped=f"finished its {len(result.history.epoch)} epochs under Lightning")
        _write_beside(out, config, result.history)
        log = TrainingLog(out, tensorboard=config.setting("tensorboard"))
        log.update(result.history)
        log.close()
    resumed = engine.module.resumed_epochs if resume else 0
    return TrainingRun(model, result, result.history, path, resumed,
                       engine.trainer.is_global_zero)


def _write_beside(out: Path, config: Config, history: History) -> None:
    """The resolved config, and the per-epoch history as JSON and as a CSV to open anywhere."""
    (out / CONFIG_FILE).write_text(config.to_toml())
    (out / "history.json").write_text(json.dumps(history.to_dict(), indent=1))
    write_csv(out / "history.csv", history)

