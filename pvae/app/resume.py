"""What ``pvae train --resume`` continues: the stored config, what may differ, how to resume.

A run is resumed as Lightning resumes one: ``pvae train --resume --out DIR`` reads the config
stored with the run (its checkpoint, else Lightning's, else the ``config.toml`` written before
the first step), so no config or ``--set`` has to be repeated. ``--set train.epochs=N`` may
raise the number of epochs, which extends a finished or early-stopped run; any other
difference from the stored config is refused, naming each key with both values.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from ..checkpoint import load_checkpoint
from ..config import Config, read_config

__all__ = ["CONFIG_FILE", "TrainingInterrupted", "differences", "resume_command",
           "stored_config"]

#: the resolved config a run writes into its folder before its first step
CONFIG_FILE = "config.toml"
#: keys that may differ when a run is resumed: the seed (the random state is the
#: checkpoint's), and the number of epochs (raising it extends the run)
MAY_DIFFER = {("train", "seed"), ("train", "epochs")}


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C during ``pvae train``: its message names the epoch and the command to resume."""


def resume_command(out: Path) -> str:
    """The command that continues the run in ``out``."""
    return shlex.join(["pvae", "train", "--resume", "--out", str(out)])


def lightning_config(path: Path) -> dict[str, Any] | None:
    """The pvae config stored in a Lightning checkpoint, if it holds one."""
    try:
        stored = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:  # noqa: BLE001 - Lightning's own loader reports a damaged file
        return None
    return stored.get("pvae_config") if isinstance(stored, dict) else None


def stored_config(out: Path, checkpoint: str, lightning: Path) -> dict[str, Any]:
    """The config of the run in ``out``: its checkpoint's, Lightning's, or its config.toml.

    Raises
    ------
    FileNotFoundError
        When ``out`` holds none of them.
    """
    if (out / checkpoint).is_file():
        return load_checkpoint(out / checkpoint).config.to_dict()
    if (out / lightning).is_file() and (found := lightning_config(out / lightning)):
        return found
    if (out / CONFIG_FILE).is_file():
        return read_config(out / CONFIG_FILE)
    raise FileNotFoundError(f"nothing to resume: {out} holds no {checkpoint} and no "
                            f"{CONFIG_FILE}; start a run with pvae train CONFIG --out {out}")


def _shown(value: Any) -> str:
    return "(not set)" if value is None else json.dumps(value)


def differences(saved: Mapping[str, Any], given: Config, *, done: int | None) -> list[str]:
    """Each key of ``given`` that differs from the ``saved`` config, with both values.

    The ``[model]`` table is compared on the keys ``given`` holds (a checkpoint stores its
    model's whole spec). ``train.epochs`` may differ, but not below the ``done`` epochs.
    """
    ours = given.to_dict()
    found = []
    for table in ("data", "model", "train"):
        mine, theirs = ours.get(table, {}), saved.get(table, {}) or {}
        keys = mine if table == "model" else {**theirs, **mine}
        for key in keys:
            old, new = theirs.get(key), mine.get(key)
            if old == new:
                continue
            if (table, key) in MAY_DIFFER and (key == "seed" or isinstance(new, int) and (
                    done is None or new >= done)):
                continue
            if (table, key) == ("train", "epochs") and isinstance(new, int) and done:
                found.append(f"train.epochs = {new} now, fewer than the {done} epochs the run "
                             "has done")
                continue
            found.append(f"{table}.{key} = {_shown(old)} in the run, {_shown(new)} now")
    return found


def extends(saved: Mapping[str, Any], given: Config) -> bool:
    """Whether ``given`` asks for more epochs than the ``saved`` config did."""
    old, new = (saved.get("train") or {}).get("epochs"), given.train.get("epochs")
    return isinstance(old, int) and isinstance(new, int) and new > old
