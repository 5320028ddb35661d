"""Run pvae's benchmarks: ``python -m benchmarks.run [NAME ...] [--tiny] [--out DIR]``.

Each benchmark writes ``NAME.json`` and ``NAME.md`` into the output folder. ``--tiny`` is the
smoke mode CI runs (seconds); without it, the full mode whose tables go in the docs.
"""

from __future__ import annotations

import os

# Benchmarks alternate torch (OpenMP) with NumPy/scikit-learn (OpenBLAS). OpenMP's worker
# threads otherwise spin for a while after each parallel region and steal the cores from
# whichever library runs next, which made either side look up to 3x slower here.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse
from collections.abc import Callable
from pathlib import Path

from . import gaussian, gmm
from .table import Table

BENCHMARKS: dict[str, Callable[[bool], Table]] = {"gaussian": gaussian.run, "gmm": gmm.run}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help=f"which to run (default: all of {', '.join(BENCHMARKS)})")
    parser.add_argument("--tiny", action="store_true", help="the seconds-long smoke mode")
    parser.add_argument("--out", type=Path, default=Path("results"), help="output folder")
    args = parser.parse_args(argv)
    unknown = [name for name in args.names if name not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s) {unknown}; known: {', '.join(BENCHMARKS)}")
    for name in args.names or list(BENCHMARKS):
        table = BENCHMARKS[name](args.tiny)
        table.write(args.out)
        print(table.markdown())


if __name__ == "__main__":
    main()
