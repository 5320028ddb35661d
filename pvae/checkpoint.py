"""Checkpoints: a model, its config and where training stands, written atomically.

A checkpoint is one file that ``torch.load(..., weights_only=True)`` reads: plain
containers, numbers, strings and tensors, no pickled objects. It is written to a temporary
file in the same folder and renamed over the old one, so a crash mid-write leaves the
previous checkpoint whole. Each writer's temporary file has its own name (with its process
id), so writers of one path never delete each other's. A path that names a folder (an
existing one, or one written with a trailing slash) means ``folder/checkpoint.pt``, for
:func:`save` and :func:`load` alike.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any, NamedTuple

import torch

from .config import Config, ConfigError
from .registry import spec_of
from .train import History, TrainingState

__all__ = ["FORMAT", "IN_A_FOLDER", "Checkpoint", "CheckpointError", "checkpoint_path",
           "checksum", "load", "load_checkpoint", "remove_stale_temporaries", "save",
           "save_checkpoint"]

FORMAT = "pvae-checkpoint"
VERSION = 1
TEMPORARY = ".tmp"
#: the file a folder given as a checkpoint's path holds
IN_A_FOLDER = "checkpoint.pt"


class CheckpointError(ValueError):
    """A file that is not a readable pvae checkpoint (truncated, corrupt or foreign)."""


class Checkpoint(NamedTuple):
    """What a checkpoint holds.

    Attributes
    ----------
    config : Config
        The config the model was built and trained from.
    model : dict
        The model's ``state_dict()``.
    training : TrainingState or None
        Where training stood (optimiser, RNG states, losses), ``None`` for a finished fit
        saved without it.
    history : History
        Per-epoch curves: ``epoch``, ``loss``, ``validation``, ``reconstruction``, ``kl``.
    stopped : str or None
        Why the run that wrote it ended for good (it finished, stopped early, diverged), so
        that it is not resumed; ``None`` while it can continue.
    """

    config: Config
    model: dict[str, torch.Tensor]
    training: TrainingState | None
    history: History
    stopped: str | None = None

    def build_model(self) -> torch.nn.Module:
        """The config's model with the checkpoint's parameters loaded."""
        try:
            model = self.config.build_model()
        except ConfigError as error:
            raise CheckpointError(f"the checkpoint's config does not build a model: "
                                  f"{error}") from None
        self.load_into(model)
        return model

    def load_into(self, model: torch.nn.Module) -> None:
        """Load the checkpoint's parameters into ``model`` (built from the same config).

        The model takes the checkpoint's floating-point precision (a float64 model comes
        back float64).
        """
        _take_dtypes(model, self.model)
        try:
            model.load_state_dict(self.model)
        except RuntimeError as error:
            raise CheckpointError(f"the checkpoint's parameters do not fit the model its "
                                  f"config builds: {str(error).splitlines()[0]}") from None


def checksum(state: dict[str, torch.Tensor]) -> str:
    """The sha256 of a state dict: each tensor's name, dtype, shape and bytes, by name.

    Written into every checkpoint and checked when it is read: a changed byte is an error.
    """
    digest = hashlib.sha256()
    for name in sorted(state):
        tensor = state[name].detach().cpu().contiguous()
        digest.update(f"{name}\0{tensor.dtype}\0{tuple(tensor.shape)}\0".encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def _take_dtypes(model: torch.nn.Module, state: dict[str, torch.Tensor]) -> None:
    """Give ``model``'s floating-point tensors the precision they have in ``state``."""
    saved = {value.dtype for value in state.values() if value.is_floating_point()}
    own = {value.dtype for value in model.state_dict().values() if value.is_floating_point()}
    if len(saved) == 1 and own != saved:  # one precision throughout: all of the model's
        model.to(dtype=saved.pop())
        return
    tensors = {**dict(model.named_parameters(remove_duplicate=False)),
               **dict(model.named_buffers(remove_duplicate=False))}
    for name, value in state.items():  # mixed precisions: tensor by tensor
        mine = tensors.get(name)
        if mine is not None and mine.is_floating_point() and value.is_floating_point() \
                and mine.dtype != value.dtype:
            mine.data = mine.data.to(value.dtype)


def _writer(temporary: Path, path: Path) -> int | None:
    """The process id in a temporary file's name, ``None`` for a name without one."""
    middle = temporary.name.removeprefix(f".{path.name}.").removesuffix(TEMPORARY)
    pid, dash, _ = middle.partition("-")
    return int(pid) if dash and pid.isdigit() else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # it exists but is another user's
        return True
    return True


def remove_stale_temporaries(path: Path) -> list[Path]:
    """Delete what an interrupted write of ``path`` left behind; return what was deleted.

    A temporary file is stale when the process whose id its name holds has died (or its
    name holds none): a writer that is still at work, in this process or another, keeps
    its own.
    """
    stale = [leftover for leftover in sorted(path.parent.glob(f".{path.name}.*{TEMPORARY}"))
             if (pid := _writer(leftover, path)) is None
             or (pid != os.getpid() and not _alive(pid))]
    for leftover in stale:
        leftover.unlink(missing_ok=True)
    return stale


def checkpoint_path(path: str | Path) -> Path:
    """Where the checkpoint that ``path`` names lives.

    A folder (an existing one, or a path written with a trailing slash) holds it as
    ``folder/checkpoint.pt``; any other path is the file itself.
    """
    text = os.fspath(path)
    if text.endswith(("/", os.sep)) or Path(text).is_dir():
        return Path(text) / IN_A_FOLDER
    return Path(text)


def save_checkpoint(path: str | Path, *, config: Config, model: torch.nn.Module,
                    training: TrainingState | None = None,
                    history: History | None = None, stopped: str | None = None) -> Path:
    """Write a checkpoint atomically (temporary file, fsync, rename) and return its path.

    The stored ``[model]`` table is the model's own spec, which may have learnt more than
    the config said (a mixture's dimension, once it has seen data). ``stopped`` says why
    the run ended for good (see :attr:`Checkpoint.stopped`).
    """
    path = Path(path)
    spec = spec_of(model)
    config = replace(config, model=spec if isinstance(spec, dict) else {"name": spec})
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path)
    weights = {key: value.detach().cpu() for key, value in model.state_dict().items()}
    payload = {
        "format": FORMAT, "version": VERSION, "config": config.to_dict(), "model": weights,
        "training": training.to_dict() if training is not None else None,
        "history": (history or History()).to_dict(), "stopped": stopped,
        "checksum": checksum(weights),
    }
    # one name per writer: two writers of one path never touch each other's file
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.{os.getpid()}-",
                                         suffix=TEMPORARY)
    with _interrupt_after(), _removed_on_failure(temporary):
        with os.fdopen(handle, "wb") as stream:
            torch.save(payload, stream)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, 0o666 & ~_umask())  # as open() would: mkstemp makes it 0600
        os.replace(temporary, path)
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def _removed_on_failure(temporary: str) -> Iterator[None]:
    try:
        yield
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def _interrupt_after() -> Iterator[None]:
    """Hold back Ctrl-C until the block ends, then raise it: a write is never cut in half.

    An interrupt that lands inside ``torch.save``'s C++ writer comes out as a ``RuntimeError``;
    held back, it is the ``KeyboardInterrupt`` it was, once the checkpoint is whole.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda number, frame: caught.append(number))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if caught:
        raise KeyboardInterrupt


def save(model: torch.nn.Module, path: str | Path, *, history: History | None = None,
         config: Config | None = None) -> Path:
    """Write a model built by pvae to a checkpoint that :func:`load` reads back; return its path.

    ``pvae.save(model, "vae.pt")`` stores the model's spec (the constructor call that builds
    it, with what it learnt of its data, such as a mixture's dimension) and its parameters;
    ``pvae.load("vae.pt")`` builds the same model with the same parameters. ``history``
    (``fit(...).history``) and the ``config`` it was trained from are kept when given. A
    folder as ``path`` (an existing one, or any path ending in ``/``) means
    ``path/checkpoint.pt``, as it does for :func:`load`. The model's precision is kept (a
    float64 model loads as float64). The write is atomic: a crash leaves any older file at
    ``path`` whole.

    Raises
    ------
    TypeError
        When ``model`` is not a ``torch.nn.Module``.
    ValueError
        When the model was not built by name (a hand-made part cannot be rebuilt), or its
        parameters or parts are not those its spec builds (one added or replaced by hand):
        :func:`load` could not read the file back.
    """
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"pvae.save stores a model (a torch.nn.Module built by pvae); got "
                        f"{type(model).__name__}")
    spec_of(model)  # a hand-built model cannot be rebuilt: say so before writing anything
    broken = [name for name, value in model.state_dict().items()
              if value.is_floating_point() and not bool(torch.isfinite(value).all())]
    if broken:
        raise ValueError(f"the model's {', '.join(broken[:3])} hold NaN or infinite values; a "
                         "diverged model is not worth keeping (fit it again, lower lr)")
    if config is not None and not isinstance(config, Config):
        raise TypeError(f"config must be a pvae Config (load_config(...)); got "
                        f"{type(config).__name__}")
    if history is not None and not isinstance(history, History):
        raise TypeError(f"history must be a fit's History (fit(...).history); got "
                        f"{type(history).__name__}")
    config = config or Config()
    _refuse_changed_by_hand(model, config)
    return save_checkpoint(checkpoint_path(path), config=config, model=model, history=history)


def _refuse_changed_by_hand(model: torch.nn.Module, config: Config) -> None:
    """Raise ``ValueError`` unless the model its spec builds has ``model``'s parts and tensors.

    What :func:`load` will build is built here, beside the random streams, and compared: a
    parameter added by hand, or a part replaced by hand, would make the file unreadable.
    """
    spec = spec_of(model)
    table = spec if isinstance(spec, dict) else {"name": spec}
    with torch.random.fork_rng(devices=[]):
        try:
            rebuilt = replace(config, model=table, _built=[]).build_model()
        except ConfigError as error:
            raise ValueError(f"the model's spec does not build a model again, so pvae.load "
                             f"could not read it back: {error}") from None
    ours, theirs = model.state_dict(), rebuilt.state_dict()
    differ = sorted(set(ours) ^ set(theirs)) or [
        name for name in ours if ours[name].shape != theirs[name].shape]
    parts = dict(rebuilt.named_modules())
    differ += [f"{name} ({type(part).__name__})" for name, part in model.named_modules()
               if name in parts and type(parts[name]) is not type(part)]
    if differ:
        shown = ", ".join(differ[:3]) + (", ..." if len(differ) > 3 else "")
        raise ValueError(
            f"the model's {shown} are not what its spec {table.get('name')!r} builds (a "
            "parameter added, or a part replaced, by hand): pvae.load could not rebuild it. "
            "Build the model with that part by name or spec, or keep its state_dict with "
            "torch.save")


def load(path: str | Path) -> torch.nn.Module:
    """The trained model a checkpoint holds, built from its config with its parameters.

    ``pvae.load("runs/digits/checkpoint.pt")`` is ``load_checkpoint(path).build_model()``;
    the config, the training state and the history are in :func:`load_checkpoint`'s result.
    A folder means ``folder/checkpoint.pt`` (what :func:`save` writes into a folder).
    """
    return load_checkpoint(path).build_model()


def load_checkpoint(path: str | Path) -> Checkpoint:
    """Read a checkpoint safely (``weights_only=True``); a folder means its ``checkpoint.pt``.

    Raises
    ------
    FileNotFoundError
        When there is no file at ``path``.
    CheckpointError
        When the file is truncated or corrupt, or is not a pvae checkpoint.
    """
    path = checkpoint_path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    try:
        payload: Any = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch.load fails in many ways on a damaged or foreign file
        text = str(error).strip()
        reason = text.splitlines()[0].split(". ")[0] if text else type(error).__name__
        raise CheckpointError(
            f"{path} is not a readable checkpoint (truncated, corrupt, or holding objects "
            f"other than tensors and plain data): {reason}. Train again, or resume from an "
            "older copy.") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{path} is a torch file but not a pvae checkpoint (no "
                              f"'format': {FORMAT!r} entry)")
    if payload.get("version") != VERSION:
        raise CheckpointError(f"{path} is a pvae checkpoint of version "
                              f"{payload.get('version')}; this pvae reads version {VERSION}")
    weights = payload.get("model")
    if not isinstance(weights, dict) or not all(isinstance(v, torch.Tensor)
                                                for v in weights.values()):
        raise CheckpointError(f"{path} is a pvae checkpoint without a model's weights; train "
                              "again, or resume from an older copy")
    stored = payload.get("checksum")  # (a file of an older pvae has none: nothing to check)
    try:
        actual = checksum(payload["model"]) if stored is not None else None
    except (RuntimeError, TypeError) as error:  # a tensor without plain bytes (sparse, ...)
        raise CheckpointError(f"{path} holds weights that are not plain tensors ({error}); "
                              "train again, or resume from an older copy") from None
    if stored != actual:
        raise CheckpointError(f"{path} is damaged: its weights do not match the checksum "
                              "written with them (bytes changed since it was saved); train "
                              "again, or resume from an older copy")
    broken = [name for name, value in weights.items()
              if value.is_floating_point() and not bool(torch.isfinite(value).all())]
    if broken:
        raise CheckpointError(f"{path} holds NaN or infinite weights ({', '.join(broken[:3])}"
                              f"{', ...' if len(broken) > 3 else ''}): the run that wrote it "
                              "had diverged. Train again from an earlier checkpoint with a "
                              "lower learning rate")
    try:
        training, stopped = payload["training"], payload.get("stopped")
        if stopped is not None and not isinstance(stopped, str):
            raise TypeError(f"'stopped' is a {type(stopped).__name__}, not a string")
        return Checkpoint(
            config=Config.from_dict(payload["config"], build=False), model=payload["model"],
            training=TrainingState.from_dict(training) if training is not None else None,
            history=History.from_dict(payload["history"]), stopped=stopped)
    except (KeyError, TypeError, ValueError) as error:
        raise CheckpointError(f"{path} is a pvae checkpoint with a damaged entry ({error}); "
                              "train again, or resume from an older copy") from None
