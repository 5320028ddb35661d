"""The report's third section: latent-variable models, their bounds, holes and gaps."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from ... import plots
from ...config import Config
from ...data import dequantize
from ...estimate import score
from ...models import LinearGaussian
from ...pair import elbo_terms
from ...train import History, fit
from ..runs import train
from .figures import Figures
from .gaps import gap_section
from .holes import autoencoder_against_vae

__all__ = ["latent_section"]

#: epochs without a better validation ELBO before a VAE of the report stops
PATIENCE = 10


def _vae_config(z_dim: int, guide: str, epochs: int, seed: int) -> Config:
    hidden = {"name": "mlp", "hidden": [128]}
    return Config.from_dict({
        "data": {"name": "digits", "transform": "dequantize", "validation": 200},
        "model": {"name": "vae", "x_shape": [64], "z_dim": z_dim, "guide": guide,
                  "likelihood": {"name": "gaussian", "scale": "per_dim"},
                  "encoder": hidden, "decoder": hidden},
        # at most ``epochs``: each stops once 10 epochs pass without a better validation ELBO
        "train": {"epochs": epochs, "batch_size": 128, "lr": 3e-3, "seed": seed,
                  "patience": PATIENCE, "checkpoint_every": epochs},
    })


def latent_section(train_x: torch.Tensor, test_x: torch.Tensor, labels: torch.Tensor,
                   out: Path, seed: int, device: str, quick: bool, progress: bool,
                   figures: Figures) -> tuple[list[str], list[tuple[str, str, float]]]:
    """PCA as a linear-Gaussian model and four VAEs (checkpointed in ``out/runs``)."""
    train_x, test_x = dequantize(train_x, 17, seed), dequantize(test_x, 17, seed + 1)
    ks = (1, 10, 100) if quick else (1, 10, 100, 1000)
    epochs = 20 if quick else 300
    pca = LinearGaussian(64, 10)
    fit(pca, train_x, epochs=epochs, batch_size=256, lr=1e-2, seed=seed, device=device,
        progress=progress)
    runs = {}
    for name, z_dim, guide in (("vae", 8, "normal"), ("autoencoder", 8, "delta"),
                               ("vae_2d", 2, "normal"), ("autoencoder_2d", 2, "delta")):
        folder = out / "runs" / name
        (folder / "checkpoint.pt").unlink(missing_ok=True)  # the demo always starts afresh
        runs[name] = train(_vae_config(z_dim, guide, epochs, seed), folder, device=device,
                           progress=progress)
    models = {name: run.model.double() for name, run in runs.items()}
    rows, scores, ladders = [], [], []
    for name, pair in (("LinearGaussian q=10", pca.cpu()),
                       ("VAE z=8, Gaussian pixels", models["vae"])):
        result = score(pair, test_x, ks=ks)
        assert result.elbo is not None
        ladders.append(plots.BoundLadder(name, result.elbo, result.iwae, result.exact))
        exact_value = f"{result.exact.value:.3f}" if result.exact else "unknown"
        rows.append(f"| {name} | {exact_value} | {result.elbo.value:.3f} | "
                    + " | ".join(f"{e.value:.3f}" for e in result.iwae) + " |")
        scores.append((name, "SVI; exact" if result.exact else
                       f"SVI; IWAE-{ks[-1]} (a lower bound)",
                       result.exact.value if result.exact else result.iwae[-1].value))
    autoencoder = models["autoencoder"]
    reconstruction = elbo_terms(autoencoder, test_x).reconstruction
    _latent_figures(models, runs["vae"].history, test_x, labels, ladders, figures)
    hole_lines = autoencoder_against_vae(
        {"autoencoder": autoencoder, "VAE": models["vae"]}, train_x.double(), test_x, figures,
        flat={"autoencoder": models["autoencoder_2d"], "VAE": models["vae_2d"]}, seed=seed)
    gap_lines = gap_section({"LinearGaussian q=10": pca.cpu(),
                             "VAE z=8, Gaussian pixels": models["vae"]}, test_x, quick=quick,
                            figures=figures)
    lines = [
        "## 3. Latent-variable models: bounds that close the gap",
        "",
        "Data: the 64 pixels, dequantized ((k + u) / 17) so that every model is a density. "
        "The VAE's log-likelihood has no closed form; the linear-Gaussian model's does, and "
        "shows the bounds approaching it: ELBO ≤ IWAE-k ≤ log p(x).",
        "",
        "| model | exact | ELBO | " + " | ".join(f"IWAE-{k}" for k in ks) + " |",
        "|---|---|---|" + "---|" * len(ks),
        *rows,
        "",
        "The deterministic autoencoder (the same networks with a Delta guide, trained on "
        "log p(x | f(x)) + log p(f(x))) has no likelihood to bound: a point-mass q makes "
        "the ELBO's entropy term minus infinity. Its reconstruction term on the test set, "
        f"log p(x | z = f(x)), is {reconstruction:.3f} nats per image; it is not comparable "
        "to the rows above.",
        "",
        "### Holes: why the autoencoder cannot be sampled",
        "",
        "Both were trained on the same images with the same networks; the autoencoder's "
        "decoder saw only the points f(x), the VAE's saw codes drawn around them from "
        "q(z | x), pulled towards the prior by the KL term. Codes drawn from the prior land "
        "far from every training code far more often for the autoencoder:",
        "",
        *hole_lines,
        "",
        "Checkpoints of the VAE, the autoencoder and their 2-D versions are in `runs/`: "
        "`pvae evaluate runs/vae/checkpoint.pt runs/autoencoder/checkpoint.pt --holes` and "
        "`pvae plot ...` work on them.",
        "",
        *gap_lines,
    ]
    return lines, scores


def _latent_figures(models: dict[str, Any], history: History,
                    test: torch.Tensor, labels: torch.Tensor,
                    ladders: list[plots.BoundLadder], figures: Figures) -> None:
    vae, flat = models["vae"], models["vae_2d"]
    figures.update({
        "bounds_against_k": (
            plots.bounds_against_k(ladders, columns=2),
            "The ELBO (cross) and IWAE-k (line) against k on the test images, all from one "
            "set of importance draws per image: the ELBO is the mean log-weight over all of "
            "them, IWAE-k uses the first k. Bars are ± one standard error over the images. "
            "For the linear-Gaussian model the exact log p(x) (dotted) is known and the "
            "bounds climb towards it; for the VAE it is not, and IWAE-k is the best "
            "estimate. Each point is a Monte Carlo estimate of its bound, so a point may "
            "land above the next bound by noise; the paired difference in each panel (same "
            "images, same draws) says whether the gap left is more than noise."),
        "training_curves": (
            plots.training_curves(history, title="VAE training: ELBO = reconstruction − KL"),
            "The VAE's ELBO per epoch (training and 200 validation images) and its two "
            "terms: the reconstruction term rises while the KL term, the price in nats of "
            "encoding each image, grows to pay for it."),
        "reconstructions": (
            plots.reconstructions(test[:10], vae.reconstruct(test[:10])),
            "Test images (top) and the VAE's reconstructions, decoded from the mean of "
            "q(z | x): 8 latent dimensions keep the digit's identity and lose detail."),
        "samples": (
            plots.samples(vae.sample(32)),
            "New images: codes drawn from the prior N(0, I), decoded to their expected "
            "pixels."),
        "latent_space": (
            plots.latent_space(flat.encode(test)[0], labels,
                               title="The 2-D VAE's latent space: mean of q(z | x) per "
                                     "test image"),
            "Each test image at the mean of its 2-D posterior, coloured by digit: the "
            "classes arrange themselves without ever being shown a label."),
        "latent_manifold": (
            plots.latent_manifold(flat.decode, x_shape=(64,), steps=12, like=test),
            "The 2-D VAE's decoder over a grid of codes: the space between the classes "
            "decodes to plausible in-between digits."),
    })
