"""Where a figure or a table came from: its mode, command, date, versions and cores.

A number or a picture from a smoke run reads like one from a real run unless it says
otherwise. Every PNG pvae writes for its docs carries a :func:`provenance` in its metadata
(PNG ``tEXt`` chunks, written by :func:`save_figure` and read back by :func:`read_provenance`),
and every benchmark table carries the same record in its markdown and JSON.
"""

from __future__ import annotations

import datetime
import importlib.metadata
import os
import shlex
import sys
import zlib
from pathlib import Path

import torch
from matplotlib.figure import Figure

__all__ = ["MODES", "command_line", "provenance", "read_provenance", "save_figure"]

#: ``full``: a run whose numbers are results; ``quick`` (the demo's ``--quick``) and ``tiny``
#: (the benchmarks' ``--tiny``): smoke runs of seconds, whose numbers are not
MODES = ("full", "quick", "tiny")
#: the PNG text keys, in the order they are written
KEYS = ("Mode", "Command", "Date", "Versions", "Cores")


def command_line(argv: list[str] | None = None) -> str:
    """The command that is running, as a user would type it (``pvae demo --out x``)."""
    argv = sys.argv if argv is None else argv
    if not argv:
        return ""
    program = Path(argv[0])
    # ``python -m package`` runs package/__main__.py
    name = f"python -m {program.parent.name}" if program.name == "__main__.py" else program.name
    return " ".join([name, shlex.join(argv[1:])]).strip()


def _version(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def provenance(mode: str, command: str | None = None) -> dict[str, str]:
    """The record of a run: mode, command, date (UTC), versions and CPU cores.

    Parameters
    ----------
    mode : str
        One of :data:`MODES`.
    command : str, optional
        The command that made the run; by default the running process's own
        (:func:`command_line`).

    Returns
    -------
    dict of str to str
        Keys :data:`KEYS`, every value a string (as PNG text chunks hold them).
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}; got {mode!r}")
    import pyro  # imported here: the plots need no Pyro otherwise

    versions = (f"pvae {_version('pvae-pyro')}, torch {torch.__version__}, "
                f"pyro {pyro.__version__}, python {sys.version.split()[0]}")
    return {"Mode": mode, "Command": command_line() if command is None else command,
            "Date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "Versions": versions,
            "Cores": f"{os.cpu_count()} cores, {torch.get_num_threads()} torch threads"}


def save_figure(figure: Figure, path: str | Path, record: dict[str, str], *,
                dpi: int = 100) -> None:
    """Save ``figure`` as a PNG at ``path`` with ``record`` (a :func:`provenance`) inside."""
    if Path(path).suffix.lower() != ".png":
        raise ValueError(f"save_figure writes PNGs, whose metadata hold the provenance; "
                         f"got {path}")
    figure.savefig(path, dpi=dpi, metadata={"Software": "pvae, matplotlib", **record})


def read_provenance(path: str | Path) -> dict[str, str]:
    """The text chunks of a PNG (``tEXt``, ``zTXt`` and uncompressed ``iTXt``), by key.

    A PNG saved before provenance existed gives a dict without ``"Mode"``.
    """
    data = Path(path).read_bytes()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError(f"{path} is not a PNG file")
    texts: dict[str, str] = {}
    position = 8
    while position + 8 <= len(data):
        length = int.from_bytes(data[position:position + 4], "big")
        kind = data[position + 4:position + 8]
        body = data[position + 8:position + 8 + length]
        position += 12 + length
        if kind == b"tEXt":
            key, _, value = body.partition(b"\0")
            texts[key.decode("latin-1")] = value.decode("latin-1")
        elif kind == b"zTXt":
            key, _, rest = body.partition(b"\0")
            texts[key.decode("latin-1")] = zlib.decompress(rest[1:]).decode("latin-1")
        elif kind == b"iTXt":
            key, _, rest = body.partition(b"\0")
            if rest[:1] == b"\0":  # not compressed
                _language, _, rest = rest[2:].partition(b"\0")
                _translated, _, value = rest.partition(b"\0")
                texts[key.decode("latin-1")] = value.decode("utf-8")
        elif kind == b"IEND":
            break
    return texts
