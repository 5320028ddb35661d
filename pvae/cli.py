"""The ``pvae`` command."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from .demo import run_demo
from .validation import DataError

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pvae", description="Maximum likelihood, the ELBO and VAEs as Pyro models.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    demo = commands.add_parser(
        "demo", help="fit every model on the embedded digits and report their likelihoods",
        description="Fit a Gaussian (SVI and NUTS), Gaussian mixtures (EM and SVI), a "
                    "linear-Gaussian model and a VAE on scikit-learn's digits, with no "
                    "download, and report their held-out log-likelihoods and bounds.")
    demo.add_argument("--out", type=Path, default=Path("pvae-demo"),
                      help="folder for the report (default: %(default)s)")
    demo.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    demo.add_argument("--device", default="auto", help="auto, cpu or cuda (default: auto)")
    demo.add_argument("--quick", action="store_true", help="fewer steps and draws (seconds)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; user errors print one line and exit with status 2."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "demo":
            report = run_demo(args.out, seed=args.seed, device=args.device, quick=args.quick)
            print(report)
    except (DataError, ValueError, OSError) as error:
        print(f"pvae: error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
