"""Does a model generate new images, or copy? Log-likelihood beside sample quality.

For each model on the same held-out images: the test NLL (IWAE-k), FID and KID, precision
and recall (raw-pixel features), the data-copying statistic C_T and the sharpness of its
mean images and of its draws against the data's. Two controls calibrate the table: a
copycat that returns training images with a little pixel noise (C_T must catch it while its
FID looks excellent) and held-out images (C_T near 0). Digits in tiny mode; MNIST in full
mode. Every model sees the grey levels themselves (a continuous Bernoulli likelihood, or the
linear-Gaussian model's Gaussian), so that its mean images, its draws and the data share one
space: a binarized test set would put grey means and binary data on different scales.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import torch
from matplotlib.figure import Figure

import pvae
from pvae.app.report.holes import fitted_gaussian_draws
from pvae.data import digits, mnist
from pvae.estimate import classifier_features
from pvae.plots import image_rows
from pvae.randomness import seeded

from .table import SHARED_MNIST, PlusMinus, Table, peak_rss_mb
from .trained import NETS

COLUMNS = ["model", "test NLL (IWAE)", "FID (classifier)", "FID (pixels)", "KID (pixels)",
           "precision", "recall", "C_T", "copied", "sharpness of means", "sharpness of draws",
           "seconds"]

Sampler = Callable[[int], tuple[torch.Tensor, torch.Tensor | None]]


def _vae_sampler(vae: pvae.VAE) -> Sampler:
    """Mean images and draws of the same codes (the same seed draws the same codes first)."""
    def draw(n: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        with seeded(0):
            means = vae.sample(n)
        with seeded(0):
            return means, vae.sample(n, mean=False)

    return draw


def _autoencoder_sampler(vae: pvae.VAE, train: torch.Tensor) -> Sampler:
    """Codes drawn from the Gaussian fitted to the training codes, decoded to their means."""
    codes, _ = vae.encode(train)

    def draw(n: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        return vae.decode(fitted_gaussian_draws(codes, n).to(codes)), None

    return draw


def _linear_sampler(model: pvae.LinearGaussian) -> Sampler:
    def draw(n: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        with torch.no_grad():
            z = torch.randn(n, model.z_dim, dtype=model.weight.dtype)
            means = z @ model.weight.T + model.bias
            return means, means + model.noise * torch.randn_like(means)

    return draw


def _trained(options: dict[str, Any], train: torch.Tensor, z_dim: int, nets: dict[str, Any],
             budget: float) -> pvae.VAE:
    """A VAE on the grey levels themselves (continuous Bernoulli), trained for ``budget`` s."""
    vae = pvae.VAE((train.shape[1],), z_dim, likelihood="continuous_bernoulli", seed=0, **nets,
                   **options)
    pvae.fit(vae, train, epochs=10_000, batch_size=128, lr=1e-3, seed=0, time_limit=budget,
             progress=False)
    return vae


def _models(train: torch.Tensor, tiny: bool) -> dict[str, tuple[Any, Sampler]]:
    """Each model by name: the model to score, and a sampler of its means and draws."""
    budget = 2.0 if tiny else 120.0
    nets: dict[str, Any] = ({"encoder": {"name": "mlp", "hidden": [32]},
                             "decoder": {"name": "mlp", "hidden": [32]}} if tiny else NETS)
    z_dim = 8 if tiny else 50
    named: dict[str, dict[str, Any]] = {
        "VAE, N(0, I) prior": {},
        f"VampPrior, K={50 if tiny else 500}": {"prior": {"name": "vamp",
                                                            "components": 50 if tiny else 500}},
        "flow guide, 2 flows": {"guide": {"name": "flow", "flows": 2}},
        "IWAE-trained VAE, k=5": {"objective": {"name": "iwae", "k": 5}},
    }
    found: dict[str, tuple[Any, Sampler]] = {}
    for name, options in named.items():
        vae = _trained(options, train, z_dim, nets, budget)
        found[name] = (vae, _vae_sampler(vae))
    autoencoder = _trained({"guide": "delta"}, train, z_dim, nets, budget)
    found["autoencoder, Gaussian fitted to its codes"] = (
        None, _autoencoder_sampler(autoencoder, train[:5000]))
    linear = pvae.LinearGaussian(train.shape[1], z_dim)
    pvae.fit(linear, train, epochs=10_000, batch_size=256, lr=1e-2, seed=0,
             time_limit=budget, progress=False)
    found["linear-Gaussian model"] = (linear, _linear_sampler(linear))
    return found


def _row(table: Table, name: str, model: Any, means: torch.Tensor, draws: torch.Tensor | None,
         train: torch.Tensor, test: torch.Tensor, shape: tuple[int, ...], k: int,
         started: float, features: Callable[[torch.Tensor], torch.Tensor]
         ) -> tuple[pvae.Fidelity, pvae.Novelty]:
    reference, scored = test[len(test) // 2:], test[:len(test) // 2]
    nll: Any = ""
    if model is not None:
        bound = pvae.iwae(model, scored, k, seed=0)
        nll = PlusMinus(-bound.value, bound.stderr)
    quality = pvae.fidelity(means, reference, seed=0)
    learned = pvae.fidelity(means, reference, features=features, seed=0)
    copying = pvae.novelty(means, train, reference, cells=5 if len(test) < 1000 else 20,
                           seed=0)
    sharp = pvae.sharpness(means, reference, shape)
    drawn: Any = "" if draws is None else pvae.sharpness(draws, reference, shape).ratio
    table.add(**{"model": name, "test NLL (IWAE)": nll, "FID (classifier)": learned.fid,
                 "FID (pixels)": quality.fid,
                 "KID (pixels)": PlusMinus(quality.kid, quality.kid_stderr),
                 "precision": quality.precision, "recall": quality.recall,
                 "C_T": copying.c_t, "copied": copying.copied,
                 "sharpness of means": sharp.ratio, "sharpness of draws": drawn,
                 "seconds": time.perf_counter() - started})
    return quality, copying


def _nll_against_fid(points: dict[str, tuple[PlusMinus, float]]) -> Figure:
    figure = Figure(figsize=(6.4, 4.2), layout="constrained")
    axes = figure.subplots()
    for name, (nll, fid) in points.items():
        axes.errorbar(nll.value, fid, xerr=nll.stderr, fmt="o", capsize=3)
        axes.annotate(name, (nll.value, fid), fontsize="x-small", xytext=(4, 4),
                      textcoords="offset points")
    axes.set_xlabel("test NLL, nats per image (IWAE ± 1 s.e.; lower is better)")
    axes.set_ylabel("FID in pixel space (lower is better)")
    axes.set_title("Likelihood and sample quality need not agree", fontsize="medium")
    return figure


def run(tiny: bool) -> Table:
    """Digits in tiny mode; MNIST (the IDX files beside the repository) in full mode."""
    if tiny:
        split, shape, k, n = digits(), (8, 8), 10, 300
    else:
        split, shape, k, n = mnist(SHARED_MNIST), (28, 28), 1000, 2000
    train, test = split.train, split.test[: (300 if tiny else 2000)]  # grey levels in [0, 1]
    table = Table("generation", "Does a model generate new images? Likelihood beside sample "
                  f"quality on {len(test)} held-out images", COLUMNS)
    features = classifier_features(train, split.train_labels, epochs=2 if tiny else 10)
    points: dict[str, tuple[PlusMinus, float]] = {}
    nearest_rows: dict[str, torch.Tensor] = {}
    blur_rows: dict[str, torch.Tensor] = {}
    shown = 10
    for name, (model, sampler) in _models(train, tiny).items():
        started = time.perf_counter()
        means, draws = sampler(n)
        quality, copying = _row(table, name, model, means, draws, train, test, shape, k,
                                started, features)
        if model is not None:
            points[name] = (table.rows[-1]["test NLL (IWAE)"], quality.fid)
        if name in ("VAE, N(0, I) prior", "autoencoder, Gaussian fitted to its codes"):
            nearest_rows[f"{name.split(',')[0]}: sample"] = means[:shown]
            nearest_rows[f"{name.split(',')[0]}: nearest training image"] = \
                train[copying.nearest_train[:shown]]
        if name == "VAE, N(0, I) prior" and draws is not None:
            blur_rows = {"E[x | z]": means[:shown], "x ~ p(x | z), same z": draws[:shown],
                         "real (held out)": test[:shown]}
    generator = torch.Generator().manual_seed(0)
    rows = torch.randint(len(train), (n,), generator=generator)
    controls = {"control: copycat (training images + pixel noise)":
                (train[rows] + 0.02 * torch.randn(n, train.shape[1], generator=generator))
                .clamp(0, 1),
                "control: held-out images": test[: len(test) // 2]}
    for name, images in controls.items():
        _, copying = _row(table, name, None, images, None, train, test, shape, k,
                          time.perf_counter(), features)
        if "copycat" in name:
            nearest_rows["copycat: sample"] = images[:shown]
            nearest_rows["copycat: nearest training image"] = train[copying.nearest_train[:shown]]
    image_shape = (shape[-2], shape[-1])
    table.figures += [
        ("generation_nearest.png", image_rows(
            nearest_rows, image_shape=image_shape,
            title="Samples beside their nearest training image: new, or copied?")),
        ("generation_blur.png", image_rows(
            blur_rows, image_shape=image_shape,
            title="The same codes decoded to their means and to draws, beside real images"))]
    table.notes += [
        "FID (classifier): in the 64 features of a classifier pvae trains on the training "
        "images and labels (pvae.estimate.classifier_features; held-out accuracy "
        f"{features.accuracy:.3f}). "
        "FID, KID, precision and recall in raw-pixel space against the second half of the "
        "held-out images; C_T (Meehan et al. 2020) against the training set with the same "
        "half as held-out data: about 0 when samples are as new as unseen data, below -3 "
        "when they copy. 'copied': the share of samples closer to the training set than 90% "
        "of held-out images.",
        "Models trained for a fixed CPU budget each (2 s tiny, 120 s full) on the grey levels "
        "(continuous Bernoulli); the NLL is in nats per image of those grey levels, so it is "
        "comparable across these rows, not with binarized-MNIST numbers.",
        "Sharpness: the Laplacian energy of the mean images (and of draws x ~ p(x | z)) over "
        "the data's; below 1 is blurrier than the data.",
        "The controls calibrate the measures: the copycat's FID is excellent and its C_T far "
        "below 0; held-out images give C_T near 0.",
    ]
    table.figures.append(("generation_nll_fid.png", _nll_against_fid(points)))
    table.notes.append(f"peak memory {peak_rss_mb():.0f} MB")
    return table
