"""Run pvae's benchmarks: ``python -m benchmarks.run [NAME ...] [--tiny] [--out DIR]``.

Each benchmark writes ``NAME.json`` and ``NAME.md`` into the output folder. ``--tiny`` is the
smoke mode CI runs (seconds); without it, the full mode whose tables go in the docs. Each
benchmark runs in a process of its own, so that its threading environment is its own.
"""

from __future__ import annotations

import argparse
import importlib
import os
import shlex
import subprocess
import sys
from pathlib import Path

BENCHMARKS = ("gaussian", "gmm", "speed", "estimator_speed", "likelihood_ladder", "mnist_nll",
              "gradient_snr", "lightning_engine", "sandwich", "gaps", "holes", "evidence",
              "evidence_peers", "generation")

# Set before torch starts. The gmm benchmark alternates torch (OpenMP) with scikit-learn
# (OpenBLAS) on a 2-core machine; its main rows compare the two on one thread each, and it
# reruns its first case under two other settings in processes of their own (two threads
# with passive waiting, and the default threading), since with spinning threads each library
# steals the cores from the other and with passive ones every small parallel region pays a
# thread wake-up.
# The evidence_peers benchmark matches tools' CPU seconds: each runs on one thread, so that
# none pays for threads spinning on a shared machine and a CPU second is a core's second.
ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
ENVIRONMENT = {"gmm": ONE_THREAD, "evidence_peers": ONE_THREAD}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help=f"which to run (default: all of {', '.join(BENCHMARKS)})")
    parser.add_argument("--tiny", action="store_true", help="the seconds-long smoke mode")
    parser.add_argument("--out", type=Path, default=Path("results"), help="output folder")
    args = parser.parse_args(argv)
    unknown = [name for name in args.names if name not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s) {unknown}; known: {', '.join(BENCHMARKS)}")
    names = args.names or list(BENCHMARKS)
    if len(names) > 1:
        flags = [*(["--tiny"] if args.tiny else []), "--out", str(args.out)]
        for name in names:
            subprocess.run([sys.executable, "-m", "benchmarks.run", name, *flags], check=True)
        return
    os.environ.update(ENVIRONMENT.get(names[0], {}))
    table = importlib.import_module(f"benchmarks.{names[0]}").run(args.tiny)
    table.stamp("tiny" if args.tiny else "full",
                shlex.join(["python", "-m", "benchmarks.run", *sys.argv[1:]] if argv is None
                           else ["python", "-m", "benchmarks.run", *argv]))
    table.write(args.out)
    print(table.markdown(), flush=True)


if __name__ == "__main__":
    main()
