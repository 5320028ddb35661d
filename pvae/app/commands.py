"""What each ``pvae`` subcommand does, given its parsed arguments."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .. import plots
from ..checkpoint import Checkpoint, load_checkpoint
from ..config import load_config
from ..data import DataFileError, PreparedData
from ..train import resolve_device
from .report import run_demo
from .resume import stored_config
from .runs import CHECKPOINT, LIGHTNING_CHECKPOINT, FinishedRunError
from .runs import train as train_config

__all__ = ["demo", "model_and_data", "plot", "sample", "train"]

#: the most images one ``pvae sample`` grid draws (a 32 x 32 grid)
MAX_SAMPLE_IMAGES = 1024


def demo(args: argparse.Namespace) -> int:
    """``pvae demo``."""
    report = run_demo(args.out, seed=0 if args.seed is None else args.seed,
                      device=args.device, quick=args.quick, progress=args.progress,
                      command=args.invocation)
    print(report)
    return 0


def show_config(args: argparse.Namespace) -> int:
    """``pvae config show CONFIG [--set ...]``: the config as it would be trained."""
    print(load_config(args.config, settings=args.set).to_toml(), end="")
    return 0


def train(args: argparse.Namespace) -> int:
    """``pvae train CONFIG``."""
    engine = {key: value for key, value in (
        ("name", args.engine), ("devices", _devices(args.devices)),
        ("num_nodes", args.num_nodes), ("strategy", args.strategy),
        ("precision", args.precision)) if value is not None}
    overrides: dict[str, Any] = {"engine": engine} if engine else {}
    if args.seed is not None:
        overrides["seed"] = args.seed
    if args.config is None:
        if not args.resume:
            raise ValueError("pvae train needs a config: a TOML file or a shipped config's "
                             "name (`pvae configs` lists them); or --resume --out DIR to "
                             "continue a run with its own config")
        if args.out is None:
            raise ValueError("pvae train --resume without a config needs --out DIR, the "
                             "folder of the run to continue")
        source = stored_config(args.out, CHECKPOINT, LIGHTNING_CHECKPOINT)
        config = load_config(source, train=overrides, settings=args.set)
    else:
        config = load_config(args.config, train=overrides, settings=args.set)
    out = args.out or Path("runs") / args.config.stem
    try:
        run = train_config(config, out, resume=args.resume, device=args.device,
                           progress=args.progress)
    except FinishedRunError as finished:  # complete: say so; diverged: an error
        if not finished.complete:
            raise
        longer = (f"; --set train.epochs=N (more than {config.train.get('epochs')}) trains "
                  "it longer" if finished.extendable else "")
        print(f"resumed after epoch {finished.epoch} and found the run complete (it "
              f"{finished.ended}): nothing was trained and no file changed{longer}\n"
              f"checkpoint: {out / 'checkpoint.pt'}")
        return 0
    if not run.is_global_zero:
        return 0
    history = run.history
    lines = [f"trained {config.model['name']} on {config.data.get('name', 'digits')}: "
             f"{run.result.steps} steps in {run.result.seconds:.1f} s on {run.result.device}"
             + (f" (resumed after epoch {run.resumed_from_epoch})"
                if run.resumed_from_epoch else "")]
    if history.loss:
        lines.append(f"training ELBO, last epoch: {-history.loss[-1]:.3f} nats/pt")
    if history.validation:
        lines.append(f"validation ELBO: {-history.validation[-1]:.3f} nats/pt")
    lines.append(f"checkpoint: {run.checkpoint}")
    print("\n".join(lines))
    return 0


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split())


def _devices(value: str | None) -> int | str | None:
    return int(value) if value is not None and value.isdigit() else value


def _model(path: Path, device: str) -> tuple[Any, Checkpoint]:
    """The checkpoint's model, built once, on ``device``."""
    target = resolve_device(device)  # a bad device fails before the file is read
    saved = load_checkpoint(path)
    return saved.build_model().to(target), saved


def model_and_data(path: Path, device: str) -> tuple[Any, PreparedData, Checkpoint]:
    """The checkpoint's model and its config's data."""
    model, saved = _model(path, device)
    return model, checkpoint_data(path, saved), saved


def checkpoint_data(path: Path, saved: Checkpoint) -> PreparedData:
    """The data a checkpoint's config names; data moved since training is a clear error."""
    try:
        return saved.config.prepare_data()
    except (FileNotFoundError, DataFileError) as error:
        raise DataFileError(f"{path}: the data it was trained on are not where its config "
                            f"says (moved or deleted since?): {_one_line(error)}. Put them "
                            "back there, or train again") from None


def _needs_images(model: Any, command: str) -> None:
    if not plots.draws_images(model):
        raise ValueError(f"pvae {command} draws from a VAE checkpoint; this one holds "
                         f"a {type(model).__name__}")


def sample(args: argparse.Namespace) -> int:
    """``pvae sample CHECKPOINT``."""
    if not 1 <= args.n <= MAX_SAMPLE_IMAGES:
        raise ValueError(f"--n is the number of images in one grid, from 1 to "
                         f"{MAX_SAMPLE_IMAGES}; got {args.n}")
    if args.out.suffix.lower() not in (".png", ".pdf", ".svg", ".jpg"):
        raise ValueError(f"--out must name an image file (.png, .pdf, .svg, .jpg); got "
                         f"{args.out}")
    model, saved = _model(args.checkpoint, args.device)
    _needs_images(model, "sample")
    drawn = model.sample(args.n)
    shape = plots.as_images(drawn[0].numel(), saved.config.data.get("image_shape"))
    if shape is not None:
        figure = plots.samples(drawn, image_shape=shape)
    else:  # points, not images: x ~ p(x | z) (not its mean), against the test data
        figure = plots.against_data(model.sample(args.n, mean=False),
                                    checkpoint_data(args.checkpoint, saved).test,
                                    title=f"{args.n} samples from the model against the "
                                          "test data")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(args.out, dpi=110)
    print(f"wrote {args.out}")
    return 0


def plot(args: argparse.Namespace) -> int:
    """``pvae plot CHECKPOINT``."""
    model, data, saved = model_and_data(args.checkpoint, args.device)
    compare = None
    if args.compare is not None:
        other, _ = _model(args.compare, args.device)
        _needs_images(other, "plot --compare")
        compare = {args.compare.parent.name or "compared": other}
    label = args.checkpoint.parent.name or "this model"
    out = args.out or args.checkpoint.parent
    out.mkdir(parents=True, exist_ok=True)
    figures = plots.checkpoint_figures(model, data.test, data.test_labels, saved.history,
                                       name=label, compare=compare,
                                       image_shape=saved.config.data.get("image_shape"))
    for stem, figure in figures.items():
        figure.savefig(out / f"{stem}.png", dpi=110)
        print(f"wrote {out / stem}.png")
    return 0
