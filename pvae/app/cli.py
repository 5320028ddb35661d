"""The ``pvae`` command: demo, train, evaluate, sample, plot and bench."""

from __future__ import annotations

import argparse
import contextlib
import shlex
import subprocess
import sys
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from .. import __version__

__all__ = ["main"]

BENCHMARKS = ("gaussian", "gmm", "speed", "estimator_speed", "likelihood_ladder", "mnist_nll",
              "lightning_engine", "sandwich", "gaps", "holes")


def _common(parser: argparse.ArgumentParser, *, seed: bool = True) -> None:
    parser.add_argument("--device", default="auto",
                        help="auto (CUDA when there is one), cpu or cuda (default: auto)")
    if seed:
        parser.add_argument("--seed", type=int, default=None,
                            help="random seed (default: the config's, else 0)")
    parser.add_argument("--no-progress", dest="progress", action="store_false",
                        help="no progress bars")
    parser.add_argument("--debug", action="store_true",
                        help="on an error, show the whole traceback instead of one line")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pvae", description="Maximum likelihood, the ELBO and VAEs as Pyro models.")
    parser.add_argument("--version", action="version", version=f"pvae {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser(
        "demo", help="fit every model on the embedded digits and write a report with figures",
        description="Fit a Gaussian (SVI and NUTS), Gaussian mixtures (EM and SVI), a "
                    "linear-Gaussian model, a VAE and a deterministic autoencoder on "
                    "scikit-learn's digits, with no download; score them on one test split "
                    "and write a markdown report with its figures.")
    demo.add_argument("--out", type=Path, default=Path("pvae-demo"),
                      help="folder for the report (default: %(default)s)")
    demo.add_argument("--quick", action="store_true", help="fewer steps and draws (seconds)")
    _common(demo)

    train = commands.add_parser(
        "train", help="train the model a config file describes, with checkpoints",
        description="Train from a TOML config ([data], [model], [train] tables). A checkpoint "
                    "is written atomically to OUT/checkpoint.pt every checkpoint_every epochs; "
                    "--resume continues it exactly.")
    train.add_argument("config", type=Path, nargs="?", default=None,
                       help="a TOML config file, or a shipped config's name, e.g. digits_vae "
                            "(`pvae configs` lists them); with --resume --out DIR it may be "
                            "left out: the run's own config is read")
    train.add_argument("--out", type=Path, default=None,
                       help="folder for the checkpoint and history (default: runs/CONFIG-NAME)")
    train.add_argument("--set", action="append", default=[], metavar="TABLE.KEY=VALUE",
                       help="override one config value, e.g. --set train.epochs=2 (repeatable)")
    train.add_argument("--resume", action="store_true",
                       help="continue from OUT/checkpoint.pt instead of starting afresh, with "
                            "the config stored there (--set train.epochs=N extends the run)")
    scale = train.add_argument_group(
        "scaling out (override the config's [train] table; need pvae-pyro[lightning])")
    scale.add_argument("--engine", choices=("pvae", "lightning"), default=None,
                       help="pvae's own loop (one device) or PyTorch Lightning")
    scale.add_argument("--devices", default=None,
                       help="Lightning: devices per machine (a number, or 'auto')")
    scale.add_argument("--num-nodes", type=int, default=None, help="Lightning: machines")
    scale.add_argument("--strategy", default=None, help="Lightning: e.g. ddp")
    scale.add_argument("--precision", default=None,
                       help="Lightning: e.g. 32-true, 64-true, bf16-mixed")
    _common(train)

    config = commands.add_parser(
        "config", help="show a config as pvae resolves it (after --set overrides)",
        description="Print the config that `pvae train CONFIG --set ...` would train, checked "
                    "and resolved (the model's full spec), as TOML.")
    config.add_argument("action", choices=("show",))
    config.add_argument("config", type=Path, help="a TOML config file or a shipped config's name")
    config.add_argument("--set", action="append", default=[], metavar="TABLE.KEY=VALUE",
                        help="override one config value (repeatable)")
    config.add_argument("--debug", action="store_true", help="show tracebacks")

    commands.add_parser(
        "configs", help="list the ready configs that ship with pvae",
        description="List the ready configs shipped with the package: `pvae train NAME` "
                    "trains one.")

    evaluate = commands.add_parser(
        "evaluate", help="score a checkpoint on its test data: exact, ELBO, IWAE-k",
        description="Score the checkpoint's model on the test split its config names: the "
                    "exact log-likelihood where there is one, the ELBO and IWAE-k for "
                    "k = 1, 10, 100, ... up to --k, in nats per datapoint; with --ais, AIS; "
                    "with --bdmc, log p(x) sandwiched on data simulated from the model.")
    evaluate.add_argument("checkpoint", type=Path, nargs="+",
                          help="one checkpoint, or several to compare on the same test rows")
    evaluate.add_argument("--k", type=int, default=5000,
                          help="the largest number of importance samples (default: 5000)")
    evaluate.add_argument("--n", type=int, default=None,
                          help="score only the first N test rows (default: all)")
    evaluate.add_argument("--ais", type=int, default=None, metavar="STEPS",
                          help="add annealed importance sampling with STEPS temperatures")
    evaluate.add_argument("--bdmc", type=int, default=None, metavar="N",
                          help="add the BDMC sandwich on N points simulated from the model "
                               "(with --ais STEPS temperatures, default 1000)")
    evaluate.add_argument("--chains", type=int, default=None,
                          help="with --ais or --bdmc: AIS chains per datapoint (default: 16)")
    evaluate.add_argument("--start", choices=("guide", "prior"), default=None,
                          help="with --ais or --bdmc: where the chains start, the guide's q(z | x) "
                               "(default) or the prior (for a point-mass guide, an autoencoder)")
    evaluate.add_argument("--gaps", action="store_true",
                          help="split log p(x) - ELBO into approximation and amortisation gaps")
    evaluate.add_argument("--holes", action="store_true",
                          help="how many prior draws and interpolation points fall in holes "
                               "between the training codes (pvae.holes)")
    evaluate.add_argument("--generation", action="store_true",
                          help="samples against the test data: FID, KID, precision, recall, "
                               "the data-copying statistic C_T and sharpness")
    evaluate.add_argument("--usage", action="store_true",
                          help="the KL term's mutual information and marginal KL, active units")
    _common(evaluate)

    sample = commands.add_parser(
        "sample", help="draw images from a checkpoint's prior into a PNG",
        description="Draw codes from the prior of the checkpoint's VAE and save their "
                    "expected images as a grid.")
    sample.add_argument("checkpoint", type=Path)
    sample.add_argument("--n", type=int, default=64, help="how many (default: 64)")
    sample.add_argument("--out", type=Path, default=Path("samples.png"),
                        help="the PNG to write (default: %(default)s)")
    _common(sample)

    plot = commands.add_parser(
        "plot", help="draw every figure for a checkpoint into a folder",
        description="Training curves, reconstructions, prior samples, the latent space, the "
                    "2-D manifold (z_dim = 2) and an interpolation; --compare adds a second "
                    "checkpoint's interpolation (e.g. the autoencoder baseline).")
    plot.add_argument("checkpoint", type=Path)
    plot.add_argument("--out", type=Path, default=None,
                      help="folder for the PNGs (default: beside the checkpoint)")
    plot.add_argument("--compare", type=Path, default=None,
                      help="another checkpoint to interpolate beside this one")
    _common(plot)

    bench = commands.add_parser(
        "bench", help="run one of the benchmarks in the repository's benchmarks/ folder",
        description="Runs python -m benchmarks.run NAME from a clone of the repository; "
                    "the smoke-sized version unless --full.")
    bench.add_argument("name", choices=BENCHMARKS, metavar="NAME",
                       help=f"one of: {', '.join(BENCHMARKS)}")
    bench.add_argument("--full", action="store_true",
                       help="the full benchmark (minutes to hours) instead of the smoke run")
    bench.add_argument("--out", type=Path, default=Path("results"),
                       help="folder for NAME.json and NAME.md (default: %(default)s)")
    bench.add_argument("--debug", action="store_true", help="show tracebacks")
    return parser


def _bench(args: argparse.Namespace) -> int:
    here = Path(__file__).resolve().parents[2]
    root = next((folder for folder in (Path.cwd(), here)
                 if (folder / "benchmarks" / "run.py").is_file()), None)
    if root is None:
        raise FileNotFoundError("pvae bench runs the scripts in the repository's benchmarks/ "
                                "folder, which is not installed with the package: run it from "
                                "a clone of the repository")
    command = [sys.executable, "-m", "benchmarks.run", args.name, "--out",
               str(args.out.resolve()), *([] if args.full else ["--tiny"])]
    return subprocess.run(command, cwd=root, check=False).returncode


def _configs(args: argparse.Namespace) -> int:
    """``pvae configs``: the ready configs, by name (without torch: it answers at once)."""
    from ..shipped import SHIPPED, shipped_configs

    shipped = shipped_configs()
    width = max(map(len, shipped))
    print("\n".join(f"{name:<{width}}  {about}" for name, about in shipped.items()))
    print(f"\n`pvae train NAME` trains one; they are in {SHIPPED} (copy one to change it)")
    return 0


def _handlers(name: str) -> Callable[[argparse.Namespace], int]:
    """The handler of command ``name``; the numerical stack is imported only where needed."""
    if name == "configs":
        return _configs
    if name == "bench":
        return _bench
    from ..app import commands, evaluate  # deferred: `pvae --help` stays fast

    return {"demo": commands.demo, "train": commands.train,
            "config": commands.show_config, "evaluate": evaluate.evaluate,
            "sample": commands.sample, "plot": commands.plot}[name]


#: what a user's mistake raises: bad data, values, files, a diverged run
USER_ERRORS = (ValueError, TypeError, OSError, ArithmeticError)
#: exit statuses: 0 done, 1 an internal error (a bug: please report it), 2 a user error,
#: 130 interrupted
EXIT_OK, EXIT_BUG, EXIT_USER, EXIT_INTERRUPTED = 0, 1, 2, 130


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split()) or type(error).__name__


@contextlib.contextmanager
def _one_line_warnings(command: str) -> Iterator[None]:
    """Show every warning as one line naming its kind, not as a Python source line."""
    original = warnings.showwarning

    def show(message: Any, category: type[Warning], *_: Any, **__: Any) -> None:
        print(f"pvae {command}: {category.__name__}: {_one_line(message)}", file=sys.stderr)

    warnings.showwarning = show
    try:
        yield
    finally:
        warnings.showwarning = original


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; an error prints one line (``--debug``: the traceback).

    Exit statuses: 0 done, 2 a user error (bad config, data, file or option, a diverged
    run), 1 an internal error, 130 interrupted.
    """
    args = _parser().parse_args(argv)
    # the command as typed, for what it writes to say how it was made (not python's argv)
    args.invocation = shlex.join(["pvae", *(sys.argv[1:] if argv is None else argv)])
    try:
        with _one_line_warnings(args.command):
            return _handlers(args.command)(args)
    except KeyboardInterrupt as interrupt:  # a run's says where it stopped, how to go on
        said = _one_line(interrupt) if str(interrupt) else ""
        print(f"pvae {args.command}: interrupted{' ' + said if said else ''}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except USER_ERRORS as error:
        if args.debug:
            raise
        print(f"pvae {args.command}: error: {_one_line(error)}", file=sys.stderr)
        return EXIT_USER
    except Exception as error:  # noqa: BLE001 - a bug: one line, and how to see more
        if args.debug:
            raise
        print(f"pvae {args.command}: internal error ({type(error).__name__}: "
              f"{_one_line(error)}); rerun with --debug for the traceback and report it",
              file=sys.stderr)
        return EXIT_BUG


if __name__ == "__main__":
    sys.exit(main())
