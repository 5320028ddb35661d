"""The seed's argument on MNIST: an autoencoder's latent space has holes, a VAE's far fewer.

The `mnist_autoencoder` and `mnist_vae` configurations (the same 784-400 MLPs, a Delta guide
against a Normal one), each trained for a stated CPU budget with a 16-D and a 2-D latent;
then :func:`pvae.holes` on their training codes and the three figures of
:func:`pvae.app.report.holes.autoencoder_against_vae`. The figures on the VAE page of the
docs are this benchmark's: ``python -m benchmarks.run holes --out docs/figures/mnist``.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import torch

import pvae
from pvae.app.report.holes import autoencoder_against_vae
from pvae.data import binarize, digits, dynamic_binarization, mnist

from .table import SHARED_MNIST, Table

CONFIGS = Path(__file__).resolve().parents[1] / "pvae" / "configs"
#: training rows whose codes the holes are measured against
HOLE_ROWS = 5000


def _model_spec(name: str) -> dict[str, Any]:
    """The ``[model]`` table of a shipped config, as VAE keyword arguments."""
    spec = tomllib.loads((CONFIGS / f"{name}.toml").read_text())["model"]
    spec.pop("name")
    return spec


def _trained(spec: dict[str, Any], z_dim: int, train: torch.Tensor,
             budget: float) -> tuple[pvae.VAE, pvae.FitResult]:
    torch.manual_seed(0)
    vae = pvae.VAE(**{**spec, "z_dim": z_dim})
    result = pvae.fit(vae, train, epochs=10_000, batch_size=128, lr=1e-3, seed=0,
                      transform=dynamic_binarization, time_limit=budget, progress=False)
    return vae, result


def run(tiny: bool) -> Table:
    """Four models (autoencoder and VAE, 16-D and 2-D), their holes and their figures."""
    if tiny:
        split, budget, dims = digits(), 0.5, (4, 2)
        shrink = {"x_shape": [64], "encoder": {"name": "mlp", "hidden": [16]},
                  "decoder": {"name": "mlp", "hidden": [16]}}
        source = "the digits (tiny mode)"
    else:
        split, budget, dims, shrink = mnist(SHARED_MNIST), 90.0, (16, 2), {}
        source = "MNIST"
    train, test = split.train, binarize(split.test, "static", seed=0)
    measured_on = binarize(train[:HOLE_ROWS], "static", seed=0)
    table = Table("holes", f"Holes in the latent space: autoencoder against VAE on {source}",
                  ["model", "latent", "epochs", "train s", "prior draws in holes",
                   "interpolation points in holes", "median distance of a prior draw",
                   "prior mass covered", "test ELBO (nats)"])
    models: dict[str, dict[str, pvae.VAE]] = {"wide": {}, "flat": {}}
    for label, config in (("autoencoder", "mnist_autoencoder"), ("VAE", "mnist_vae")):
        spec = {**_model_spec(config), **shrink}
        for z_dim, which in zip(dims, ("wide", "flat"), strict=True):
            vae, result = _trained(spec, z_dim, train, budget)
            models[which][label] = vae
            measured = pvae.holes(vae, measured_on, seed=0)
            steps_per_epoch = -(-len(train) // 128)
            table.add(**{
                "model": label, "latent": f"{z_dim}-D",
                "epochs": round(result.steps / steps_per_epoch, 1),
                "train s": result.seconds,
                "prior draws in holes": f"{measured.prior.share:.1%}",
                "interpolation points in holes": f"{measured.interpolation.share:.1%}",
                "median distance of a prior draw": float(measured.prior.distance.median()),
                "prior mass covered": "—" if measured.coverage is None
                else f"{measured.coverage:.0%}",
                "test ELBO (nats)": "— (not a bound)" if label == "autoencoder"
                else pvae.elbo(vae, test[:2000]).value,
            })
    figures: dict[str, Any] = {}
    autoencoder_against_vae(models["wide"], measured_on, test, figures, prefix="holes_",
                            flat=models["flat"], columns=10)
    table.figures += [(f"{name}.png", figure) for name, (figure, _) in figures.items()]
    table.notes += [
        f"Networks and likelihood from the shipped configs mnist_autoencoder and mnist_vae "
        f"(784-400 MLPs, Bernoulli pixels, dynamic binarization, Adam 1e-3, batch 128), only "
        f"the latent width changed; {budget:.0f} s of CPU training each.",
        f"Holes are measured against the codes of {HOLE_ROWS} training images (pvae.holes): "
        "a point is in a hole when it is farther from every training code than 99% of the "
        "codes are from their nearest neighbour; distances in units of the codes' median "
        "spacing. 2000 prior draws, 200 interpolation paths of 8 inner points each. Prior "
        "mass covered is the overlap of the aggregate posterior with the prior; a point-mass "
        "encoder has none.",
    ]
    return table
