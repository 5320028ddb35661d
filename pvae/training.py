"""Training from a config, with a checkpoint after every epoch and exact resumption."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pyro
import torch

from .checkpoint import load_checkpoint, save_checkpoint
from .config import Config, PreparedData
from .infer import FitResult, fit
from .infer.state import TrainingState, rng_untouched
from .infer.terms import elbo_terms

__all__ = ["CHECKPOINT", "TrainingRun", "train"]

CHECKPOINT = "checkpoint.pt"
#: rows whose ELBO terms are recorded after every epoch when there is no validation set
TERM_ROWS = 1000


@dataclass(frozen=True)
class TrainingRun:
    """What :func:`train` did: the fit, the per-epoch history and where it was saved."""

    result: FitResult
    history: dict[str, list[float]]
    checkpoint: Path
    resumed_from_epoch: int
    #: False on every process but one under distributed training (they need not report)
    is_global_zero: bool = True


def _term_rows(data: PreparedData) -> torch.Tensor:
    if data.validation is not None:
        return data.validation
    rows = data.train[:TERM_ROWS]
    return data.transform(rows) if data.transform else rows


def _differences(saved: Config, given: Config) -> list[str]:
    """The tables in which ``given`` says something other than ``saved``."""
    ours, theirs = saved.to_dict(), given.to_dict()
    changed = [table for table in ("data", "train") if ours[table] != theirs[table]]
    if any(ours["model"].get(key) != value for key, value in theirs["model"].items()):
        changed.append("model")
    return changed


def train(config: Config, out: str | Path, *, resume: bool = False, device: str = "auto",
          seed: int | None = None, progress: bool = True) -> TrainingRun:
    """Fit the config's model to its data, checkpointing to ``out/checkpoint.pt``.

    A checkpoint (model, optimiser, RNG states, config, history) is written atomically every
    ``checkpoint_every`` epochs and at the end. With ``resume=True`` training continues from
    that checkpoint so that, on the CPU, the losses equal an uninterrupted run's. ``seed``
    overrides the config's ``[train] seed`` (and is stored with it).

    Raises
    ------
    FileExistsError
        When ``out`` already holds a checkpoint and ``resume`` is off (nothing is
        overwritten).
    FileNotFoundError
        When ``resume`` is on and there is no checkpoint to continue.
    ValueError
        When the checkpoint was trained from a different config.
    """
    out = Path(out)
    path = out / CHECKPOINT
    if seed is not None:
        config = replace(config, train={**config.train, "seed": seed})
    state: TrainingState | None = None
    history: dict[str, list[float]] = {"epoch": [], "loss": [], "validation": [],
                                       "reconstruction": [], "kl": []}
    lightning_resume = resume and config.train.get("engine") == "lightning"
    if lightning_resume:
        if not (out / "lightning" / "last.ckpt").is_file():
            raise FileNotFoundError(f"nothing to resume: no lightning/last.ckpt in {out}; "
                                    "run without --resume to start training")
        model = config.build_model()
    elif resume:
        if not path.is_file():
            raise FileNotFoundError(f"nothing to resume: no {CHECKPOINT} in {out}; "
                                    "run without --resume to start training")
        saved = load_checkpoint(path)
        if seed is None and "seed" in saved.config.train:
            config = replace(config, train={**config.train, "seed": saved.config.train["seed"]})
        changed = _differences(saved.config, config)
        if changed:
            raise ValueError(f"{path} was trained from a different config ([{'], ['.join(changed)}]"
                             " differ); resume with the config it was trained from, or "
                             "train into another --out")
        model = saved.build_model()
        state, history = saved.training, saved.history
    elif path.exists():
        raise FileExistsError(f"{out} already holds a checkpoint; pass --resume to continue "
                              "it, or choose another --out")
    else:
        if "seed" in config.train:  # the seed fixes the initial weights too
            pyro.set_rng_seed(config.train["seed"])
        model = config.build_model()
    data = config.prepare_data()
    if config.train.get("engine") == "lightning":
        return _train_with_lightning(config, model, data, out, resume=resume, device=device,
                                     progress=progress)
    every = config.setting("checkpoint_every")
    term_rows = _term_rows(data)
    last: dict[str, Any] = {}

    def on_epoch_end(epoch_state: TrainingState) -> None:
        done = epoch_state.epoch
        per_epoch = epoch_state.step // done
        rows = term_rows.to(next(model.parameters()))
        with rng_untouched(rows):  # recording the terms leaves the run's stream alone
            terms = elbo_terms(model, rows)
        history["epoch"].append(done)
        history["loss"].append(sum(epoch_state.losses[-per_epoch:]) / per_epoch)
        if epoch_state.validation_losses:
            history["validation"].append(epoch_state.validation_losses[-1])
        history["reconstruction"].append(terms.reconstruction)
        history["kl"].append(terms.kl)
        last.update(state=epoch_state, model=copy.deepcopy(model.state_dict()), saved=False)
        if done % every == 0:
            save_checkpoint(path, config=config, model=model, training=epoch_state,
                            history=history)
            last["saved"] = True

    options = config.fit_options()
    result = fit(model, data.train, transform=data.transform, validation=data.validation,
                 device=device, progress=progress, resume=state, on_epoch_end=on_epoch_end,
                 **options)
    if not last:  # EM, or no epoch finished: save the model as it stands
        save_checkpoint(path, config=config, model=model, training=state, history=history)
    elif not last["saved"]:  # the last epoch end, with the parameters of that moment
        model.load_state_dict(last["model"])
        save_checkpoint(path, config=config, model=model, training=last["state"],
                        history=history)
    (out / "config.toml").write_text(config.to_toml())
    (out / "history.json").write_text(json.dumps(history, indent=1))
    return TrainingRun(result, history, path, state.epoch if state is not None else 0)


def _train_with_lightning(config: Config, model: torch.nn.Module, data: PreparedData,
                          out: Path, *, resume: bool, device: str,
                          progress: bool) -> TrainingRun:
    """The same config through Lightning: its ModelCheckpoint writes ``out/lightning``."""
    from .infer.fit import accelerator_for, optimizer_factory
    from .lightning import fit_with_lightning

    options = config.fit_options()
    unsupported = sorted(set(options) & {"method", "n_init", "time_limit", "steps",
                                          "max_iter", "tol"})
    if unsupported or options.get("method", "svi") != "svi":
        raise ValueError(f"[train] {', '.join(unsupported)} cannot be used with engine = "
                         "\"lightning\"; it trains by SVI for a number of epochs")
    check = getattr(model, "check_data", None)
    if callable(check):  # what fit checks: the data as the model will see it
        check(data.transform(data.train) if data.transform else data.train)
    lr = options.get("lr", 0.01)
    last = out / "lightning" / "last.ckpt"
    run = fit_with_lightning(
        model, data.train, epochs=options.get("epochs", 10),
        batch_size=options.get("batch_size"), lr=lr, lr_decay=options.get("lr_decay", 1.0),
        make_optimizer=optimizer_factory(options.get("optimizer", "adam"), lr),
        transform=data.transform, validation=data.validation,
        kl_warmup=options.get("kl_warmup", 0), seed=options.get("seed"),
        devices=options.get("devices", 1), num_nodes=options.get("num_nodes", 1),
        strategy=options.get("strategy", "auto"), precision=options.get("precision"),
        accelerator=accelerator_for(device), progress=progress, checkpoint_dir=out / "lightning",
        resume_from=last if resume else None, term_rows=_term_rows(data),
        config=config.to_dict())
    path = out / CHECKPOINT
    if run.is_global_zero:  # one process writes; the others hold the same parameters
        save_checkpoint(path, config=config, model=model, history=run.history)
        (out / "config.toml").write_text(config.to_toml())
        (out / "history.json").write_text(json.dumps(run.history, indent=1))
    return TrainingRun(run.result, run.history, path, run.module.resumed_epochs,
                       run.is_global_zero)
