"""What each ``pvae`` subcommand does, given its parsed arguments."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import torch
from matplotlib.figure import Figure

from . import plots
from .checkpoint import load_checkpoint
from .config import Config, PreparedData, load_config
from .demo import run_demo
from .infer import resolve_device, score
from .training import train as train_config

__all__ = ["checkpoint_figures", "demo", "evaluate", "plot", "sample", "train"]


def demo(args: argparse.Namespace) -> int:
    """``pvae demo``."""
    report = run_demo(args.out, seed=0 if args.seed is None else args.seed,
                      device=args.device, quick=args.quick, progress=args.progress)
    print(report)
    return 0


def train(args: argparse.Namespace) -> int:
    """``pvae train CONFIG``."""
    config = load_config(args.config)
    overrides = {key: value for key, value in (
        ("engine", args.engine), ("devices", _devices(args.devices)),
        ("num_nodes", args.num_nodes), ("strategy", args.strategy),
        ("precision", args.precision)) if value is not None}
    if overrides:
        config = Config.from_dict({**config.to_dict(),
                                   "train": {**config.train, **overrides}})
    out = args.out or Path("runs") / args.config.stem
    run = train_config(config, out, resume=args.resume, device=args.device, seed=args.seed,
                       progress=args.progress)
    if not run.is_global_zero:
        return 0
    history = run.history
    lines = [f"trained {config.model['name']} on {config.data.get('name', 'digits')}: "
             f"{run.result.steps} steps in {run.result.seconds:.1f} s on {run.result.device}"
             + (f" (resumed after epoch {run.resumed_from_epoch})"
                if run.resumed_from_epoch else "")]
    if history["loss"]:
        lines.append(f"training ELBO, last epoch: {-history['loss'][-1]:.3f} nats/pt")
    if history["validation"]:
        lines.append(f"validation ELBO: {-history['validation'][-1]:.3f} nats/pt")
    lines.append(f"checkpoint: {run.checkpoint}")
    print("\n".join(lines))
    return 0


def _devices(value: str | None) -> int | str | None:
    return int(value) if value is not None and value.isdigit() else value


def _model_and_data(path: Path, device: str) -> tuple[Any, PreparedData, dict]:
    saved = load_checkpoint(path)
    model = saved.build_model().to(resolve_device(device))
    data = saved.config.prepare_data()
    anchor = next(model.parameters())
    model.to(dtype=anchor.dtype)
    return model, data, saved.history


def evaluate(args: argparse.Namespace) -> int:
    """``pvae evaluate CHECKPOINT``."""
    if args.k < 1:
        raise ValueError(f"--k must be at least 1; got {args.k}")
    model, data, _ = _model_and_data(args.checkpoint, args.device)
    test = data.test if args.n is None else data.test[:args.n]
    anchor = next(model.parameters())
    ks = sorted({k for k in (1, 10, 100, 1000, args.k) if k <= args.k})
    scores = score(model, test.to(anchor), ks=ks, progress=args.progress)
    print(f"{args.checkpoint}: {len(test)} test rows, nats per datapoint (higher is better)")
    print("| estimate | value | standard error |")
    print("|---|---|---|")
    for estimate in (scores.exact, scores.elbo, *scores.iwae):
        if estimate is not None:
            print(f"| {estimate.name} | {estimate.value:.3f} | {estimate.stderr:.3f} |")
    return 0


def _needs_images(model: torch.nn.Module, command: str) -> None:
    if not all(callable(getattr(model, name, None)) for name in ("sample", "decode")):
        raise ValueError(f"pvae {command} draws images from a VAE checkpoint; this one holds "
                         f"a {type(model).__name__}")


def sample(args: argparse.Namespace) -> int:
    """``pvae sample CHECKPOINT``."""
    model, _, _ = _model_and_data(args.checkpoint, args.device)
    _needs_images(model, "sample")
    if args.n < 1:
        raise ValueError(f"--n must be at least 1; got {args.n}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    plots.samples(model.sample(args.n)).savefig(args.out, dpi=110)
    print(f"wrote {args.out}")
    return 0


def checkpoint_figures(model: Any, data: PreparedData, history: dict, *,
                       name: str = "this model",
                       compare: dict[str, Any] | None = None) -> dict[str, Figure]:
    """Every figure that applies to a trained model, by file stem."""
    figures: dict[str, Figure] = {}
    if history.get("epoch"):
        figures["training_curves"] = plots.training_curves(history)
    if not all(callable(getattr(model, n, None)) for n in ("sample", "decode", "encode")):
        return figures
    anchor = next(model.parameters())
    test = data.test.to(anchor)
    figures["reconstructions"] = plots.reconstructions(test[:10], model.reconstruct(test[:10]))
    figures["samples"] = plots.samples(model.sample(32))
    codes, _ = model.encode(test)
    figures["latent_space"] = plots.latent_space(codes, data.test_labels)
    if codes.shape[1] == 2:
        figures["latent_manifold"] = plots.latent_manifold(
            model.decode, x_shape=tuple(test.shape[1:]), like=anchor)
    labels = data.test_labels
    other = next(i for i in range(len(labels)) if labels[i] != labels[0])
    paths = {name: model.interpolate(test[0], test[other])}
    for label, compared in (compare or {}).items():
        where = next(compared.parameters())
        paths[label] = compared.interpolate(test[0].to(where), test[other].to(where))
    figures["interpolation"] = plots.interpolations(paths)
    return figures


def plot(args: argparse.Namespace) -> int:
    """``pvae plot CHECKPOINT``."""
    model, data, history = _model_and_data(args.checkpoint, args.device)
    compare = None
    if args.compare is not None:
        other, _, _ = _model_and_data(args.compare, args.device)
        _needs_images(other, "plot --compare")
        compare = {args.compare.parent.name or "compared": other}
    label = args.checkpoint.parent.name or "this model"
    out = args.out or args.checkpoint.parent
    out.mkdir(parents=True, exist_ok=True)
    for stem, figure in checkpoint_figures(model, data, history, name=label,
                                                     compare=compare).items():
        figure.savefig(out / f"{stem}.png", dpi=110)
        print(f"wrote {out / stem}.png")
    return 0
