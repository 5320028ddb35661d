"""One training run per output folder: a lock that a killed run cannot leave stuck.

``pvae train`` holds an exclusive ``flock`` on ``OUT/.pvae-train.lock`` while it runs. The
operating system releases it when the process ends, however it ends (even ``kill -9``), so a
crashed run never blocks the next one, and a second run into a busy folder is refused at
once instead of overwriting the first one's checkpoints.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

__all__ = ["LOCK_FILE", "FolderBusyError", "writable_folder", "run_lock"]

LOCK_FILE = ".pvae-train.lock"


class FolderBusyError(OSError):
    """Another run is writing into this folder."""


def writable_folder(folder: Path) -> Path:
    """Create ``folder`` if needed and check that files can be written there."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        raise OSError(f"cannot write into {folder} ({error.strerror or error}); choose "
                      "another --out") from None
    return folder


def _is_first_process() -> bool:
    """False in the processes a distributed launcher starts beside the first one."""
    return all(os.environ.get(name, "0") == "0" for name in ("LOCAL_RANK", "NODE_RANK"))


@contextlib.contextmanager
def run_lock(folder: Path) -> Iterator[None]:
    """Hold the folder's lock for the block; raise :class:`FolderBusyError` if it is held."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no advisory locks, run unguarded
        yield
        return
    if not _is_first_process():  # the first process of a distributed run holds it
        yield
        return
    handle = open(folder / LOCK_FILE, "a+")  # noqa: SIM115 - held for the whole block
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            owner = handle.read().strip() or "another process"
            raise FolderBusyError(f"{folder} is in use by another pvae train ({owner}); wait "
                                  "for it, or choose another --out") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        yield
    finally:
        handle.close()  # closing releases the lock
