"""``pvae demo``: every model of the package on the embedded digits, scored the same way."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import arviz as az
import torch
from matplotlib.figure import Figure
from sklearn.decomposition import PCA
from sklearn.mixture import GaussianMixture as SkGaussianMixture

from .. import plots
from ..config import Config
from ..data import dequantize, digits
from ..estimate import score
from ..mcmc import mcmc
from ..models import BayesianGaussian, Gaussian, GaussianMixture, LinearGaussian
from ..pair import elbo_terms
from ..selection import choose_components, format_table
from ..train import History, fit
from .demo_gaps import gap_section
from .holes_report import autoencoder_against_vae
from .runs import train

__all__ = ["run_demo"]


Figures = dict[str, tuple[Figure, str]]


def _gaussian_section(train: torch.Tensor, test: torch.Tensor, seed: int, device: str,
                      quick: bool, figures: Figures) -> tuple[list[str], tuple[str, str, float]]:
    closed_loc, closed_scale = Gaussian.closed_form(train)
    gaussian = Gaussian()
    fit(gaussian, train, steps=200 if quick else 1500, lr=0.2, lr_decay=1e-3, seed=seed,
        device=device)
    gaussian.cpu()
    sampling: dict[str, Any] = ({"num_samples": 100, "warmup": 100, "chains": 1} if quick
                else {"num_samples": 250, "warmup": 150, "chains": 2})
    trees = {name: mcmc(BayesianGaussian(family), train, seed=seed, **sampling)
             for name, family in (("normal", "normal"), ("student_t", "student_t"))}
    ranking = az.compare(trees, round_to=None)
    test_ll = float(gaussian.log_likelihood(test).mean())
    figures["gaussian_likelihood"] = (
        plots.gaussian_likelihood(train),
        "Left, the log-likelihood of (μ, σ) given all the training images' mean ink: a "
        "surface over the *parameters*, peaked at the sample mean and the 1/N standard "
        "deviation (the star); its ellipses are 1-4 standard errors. Right, the density "
        "over *x* at that peak, over the data's histogram: the same formula read as a "
        "probability of the data.")
    lines = [
        "## 1. A Gaussian: maximum likelihood, then a posterior",
        "",
        "Data: the mean ink of each training image (one number per image, N = "
        f"{len(train)}).",
        "",
        "| | loc | scale |",
        "|---|---|---|",
        f"| closed form (mean, 1/N std) | {float(closed_loc):.5f} | {float(closed_scale):.5f} |",
        f"| SVI on the exact likelihood | {float(gaussian.loc.detach()):.5f} "
        f"| {float(gaussian.scale.detach()):.5f} |",
        f"| NUTS posterior mean (normal) | {float(trees['normal'].posterior['loc'].mean()):.5f}"
        f" | {float(trees['normal'].posterior['scale'].mean()):.5f} |",
        "",
        "Observation family by leave-one-out (az.compare; higher elpd is better):",
        "",
        "| family | elpd_loo | se |",
        "|---|---|---|",
        *(f"| {name} | {row['elpd']:.2f} | {row['se']:.2f} |"
          for name, row in ranking.iterrows()),
        "",
    ]
    return lines, ("Gaussian on mean ink", "SVI (MLE), exact", test_ll)


def _mixture_section(train: torch.Tensor, test: torch.Tensor, labels: torch.Tensor, seed: int,
                     device: str, quick: bool, figures: Figures
                     ) -> tuple[list[str], list[tuple[str, str, float]]]:
    pca = PCA(2).fit(train.numpy())
    x_train = torch.as_tensor(pca.transform(train.numpy()))
    x_test = torch.as_tensor(pca.transform(test.numpy()))
    ks = range(1, 5) if quick else range(1, 11)
    rows = choose_components(x_train, x_test, ks, n_init=1 if quick else 3, seed=seed)
    best = max(rows, key=lambda r: r.heldout_log_likelihood).k
    by_em, by_svi = GaussianMixture(best), GaussianMixture(best)
    fit(by_em, x_train, method="em", n_init=1 if quick else 3, seed=seed, device=device)
    fit(by_svi, x_train, steps=100 if quick else 600, lr=0.05, seed=seed, device=device)
    reference = SkGaussianMixture(best, n_init=1 if quick else 3, random_state=seed)
    reference.fit(x_train.numpy())
    name = f"Gaussian mixture, K={best}"
    by_em.cpu()
    figures["mixture_density"] = (
        plots.mixture_density(by_em.log_likelihood, x_train, labels=labels,
                              centres=by_em.locs.detach(),
                              title=f"EM mixture of {best} Gaussians on the digits' first two "
                                    "principal components"),
        "The mixture's log density, a log-sum over components, over the training points "
        "(coloured by digit) with the component means: components do not map one-to-one "
        "to digits, because the likelihood only asks them to cover the data's density.")
    scores = [
        (name, "EM, exact", float(by_em.log_likelihood(x_test).mean())),
        (name, "SVI (TraceEnum_ELBO), exact", float(by_svi.cpu().log_likelihood(x_test).mean())),
        (name, "scikit-learn EM, exact", float(reference.score(x_test.numpy()))),
    ]
    lines = [
        "## 2. A Gaussian mixture: a likelihood that is a sum",
        "",
        "Data: the digits projected onto their first two principal components. Choosing K "
        "(* marks the best by each criterion):",
        "",
        format_table(rows),
        "",
    ]
    return lines, scores


def _vae_config(z_dim: int, guide: str, epochs: int, seed: int) -> Config:
    hidden = {"name": "mlp", "hidden": [128]}
    return Config.from_dict({
        "data": {"name": "digits", "transform": "dequantize", "validation": 200},
        "model": {"name": "vae", "x_shape": [64], "z_dim": z_dim, "guide": guide,
                  "likelihood": {"name": "gaussian", "scale": "per_dim"},
                  "encoder": hidden, "decoder": hidden},
        "train": {"epochs": epochs, "batch_size": 128, "lr": 3e-3, "seed": seed,
                  "checkpoint_every": epochs},
    })


def _latent_section(train_x: torch.Tensor, test_x: torch.Tensor, labels: torch.Tensor,
                    out: Path, seed: int, device: str, quick: bool, progress: bool,
                    figures: Figures) -> tuple[list[str], list[tuple[str, str, float]]]:
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
            "The ELBO (cross) and IWAE-k (line) against k on the test images. For the "
            "linear-Gaussian model the exact log p(x) (dotted) is known and the bounds "
            "climb towards it; for the VAE it is not, and IWAE-k is the best estimate."),
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


def run_demo(out: Path, *, seed: int = 0, device: str = "auto", quick: bool = False,
             progress: bool = True) -> str:
    """Fit every model on the digits; write ``out/report.md`` and its figures; return it."""
    started = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    data = digits(dtype=torch.float64)
    figures: Figures = {}
    ink_train, ink_test = data.train.mean(1), data.test.mean(1)
    gaussian_lines, gaussian_score = _gaussian_section(ink_train, ink_test, seed, device,
                                                       quick, figures)
    mixture_lines, mixture_scores = _mixture_section(data.train, data.test, data.train_labels,
                                                     seed, device, quick, figures)
    latent_lines, latent_scores = _latent_section(data.train, data.test, data.test_labels,
                                                  out, seed, device, quick, progress, figures)
    (out / "figures").mkdir(exist_ok=True)
    figure_lines = []
    for name, (figure, caption) in figures.items():
        figure.savefig(out / "figures" / f"{name}.png", dpi=100)
        figure_lines += [f"### {name.replace('_', ' ').capitalize()}", "",
                         f"![{name}](figures/{name}.png)", "", caption, ""]
    lines = [
        "# pvae demo: likelihoods on the digits",
        "",
        f"{len(data.train)} training and {len(data.test)} test images from scikit-learn's "
        "digits; no download. Every model is scored on the same test split.",
        "",
        *gaussian_lines,
        *mixture_lines,
        *latent_lines,
        "## Held-out log-likelihood",
        "",
        "| model | fitted by | test log p(x), nats per point |",
        "|---|---|---|",
        *(f"| {model} | {how} | {value:.4f} |"
          for model, how, value in [gaussian_score, *mixture_scores, *latent_scores]),
        "",
        "The Gaussian row scores a one-number summary of each image, the mixture rows a "
        "two-number one and the latent models all 64 dequantized pixels: compare rows within "
        "a section, not across.",
        "",
        "## Figures",
        "",
        *figure_lines,
        f"Finished in {time.perf_counter() - started:.0f} s.",
    ]
    report = "\n".join(lines) + "\n"
    (out / "report.md").write_text(report)
    return report
