"""The likelihood ladder: exact, ELBO and IWAE-k for every model on the same held-out data."""

from __future__ import annotations

import itertools
from typing import Any, NamedTuple

import torch

import pvae
from pvae.data import binarize, dequantize, digits, mnist
from pvae.plots import BoundLadder, bounds_against_k

from .table import SHARED_MNIST, PlusMinus, Table

CLOSED = "IWAE-max − ELBO (paired)"
LEFT = "exact − IWAE-max (paired)"
AGAINST = "best − best in its space (paired)"


class Setting(NamedTuple):
    """How hard to train and score on one data set."""

    name: str
    levels: int  # grey levels of the raw pixels, for dequantization
    train: torch.Tensor
    test: torch.Tensor
    ks: tuple[int, ...]
    mixtures: tuple[tuple[int, str], ...]  # (K, covariance)
    mixture_rows: int  # training rows used for the mixtures
    pca_dim: int
    pca_epochs: int
    vae: dict[str, Any]
    vae_epochs: int
    vaes: tuple[tuple[str, Any], ...]  # (prior, likelihood)


def _settings(tiny: bool) -> list[Setting]:
    split = digits()
    likelihoods = ({"name": "gaussian", "scale": "per_dim"}, {"name": "laplace",
                   "scale": "per_dim"}, "continuous_bernoulli", "bernoulli")
    small = {"encoder": {"name": "mlp", "hidden": [128]},
             "decoder": {"name": "mlp", "hidden": [128]}}
    if tiny:
        return [Setting("digits", 17, split.train, split.test[:40], (1, 10), ((2, "full"),),
                        len(split.train), 5, 2, {"z_dim": 4, **small}, 2,
                        (("normal", likelihoods[0]),))]
    settings = [Setting("digits", 17, split.train, split.test, (1, 10, 100, 1000, 5000),
                        ((1, "full"), (5, "full"), (10, "full")), len(split.train), 10, 300,
                        {"z_dim": 8, **small}, 300,
                        tuple(itertools.product(("normal", "mog", "vamp"), likelihoods)))]
    if SHARED_MNIST.exists():
        data = mnist(SHARED_MNIST)
        wide = {"encoder": {"name": "mlp", "hidden": [400]},
                "decoder": {"name": "mlp", "hidden": [400]}}
        settings.append(Setting(
            "MNIST", 256, data.train, data.test[:1000], (1, 10, 100, 1000, 5000),
            ((10, "diag"),), 10_000, 50, 10, {"z_dim": 50, **wide}, 10,
            (("normal", likelihoods[0]), ("normal", "bernoulli"), ("vamp", "bernoulli"))))
    return settings


def _against_the_best(rows: list[tuple[dict[str, Any], pvae.Estimate]]) -> None:
    """Fill each row's difference from the best row in its space (paired, same images)."""
    for space in {row["space"] for row, _ in rows}:
        among = [(row, estimate) for row, estimate in rows if row["space"] == space]
        top = max(among, key=lambda item: item[1].value)[1]
        for row, estimate in among:
            row[AGAINST] = PlusMinus.difference(estimate, top) if estimate is not top else "best"


def _label(part: Any) -> str:
    return part if isinstance(part, str) else part["name"]


def run(tiny: bool) -> Table:
    """Fit every model of every setting, score it on the test split, draw the bounds."""
    table = Table("likelihood_ladder", "Held-out log-likelihood ladder (nats per datapoint)",
                  ["data", "model", "space", "exact", "ELBO",
                   *(f"IWAE-{k}" for k in (1, 10, 100, 1000, 5000)), CLOSED, LEFT, AGAINST])
    for setting in _settings(tiny):
        best: list[tuple[dict[str, Any], pvae.Estimate]] = []  # each row and its best estimate
        train = dequantize(setting.train, setting.levels, seed=0)
        test = dequantize(setting.test, setting.levels, seed=1)
        train_binary, test_binary = binarize(setting.train, seed=0), binarize(setting.test, seed=1)
        ladders: list[BoundLadder] = []

        def add(model: str, space: str, pair: Any, x: torch.Tensor, *, plot: bool = True,
                setting: Setting = setting, ladders: list[BoundLadder] = ladders,
                best: list[tuple[dict[str, Any], pvae.Estimate]] = best) -> None:
            scores = pvae.score(pair, x, ks=setting.ks, batch_size=100)
            row: dict[str, Any] = {c: "" for c in table.columns}
            row.update({"data": setting.name, "model": model, "space": space})
            if scores.exact is not None:
                row["exact"] = PlusMinus.of(scores.exact)
            if scores.elbo is not None and scores.iwae:
                row["ELBO"] = PlusMinus.of(scores.elbo)
                row.update({f"IWAE-{e.num_samples}": PlusMinus.of(e) for e in scores.iwae})
                row[CLOSED] = PlusMinus.difference(scores.iwae[-1], scores.elbo)
                if scores.exact is not None:
                    row[LEFT] = PlusMinus.difference(scores.exact, scores.iwae[-1])
                if plot:
                    ladders.append(BoundLadder(model, scores.elbo, scores.iwae, scores.exact))
            table.add(**{c: row[c] for c in table.columns})
            best.append((table.rows[-1], scores.exact if scores.exact is not None
                         else scores.iwae[-1]))

        torch.manual_seed(0)
        gaussian = pvae.Gaussian(dim=train.shape[1])
        gaussian.set_closed_form(train)
        add("Gaussian, diagonal (MLE)", "dequantized", gaussian, test, plot=False)
        for k, covariance in setting.mixtures:
            mixture = pvae.GaussianMixture(k, covariance=covariance)
            pvae.fit(mixture, train[: setting.mixture_rows], method="em", n_init=2, seed=0,
                     tol=1e-4, progress=False)
            add(f"Gaussian mixture K={k} ({covariance}, EM)", "dequantized", mixture, test,
                plot=False)
        pca = pvae.LinearGaussian(train.shape[1], setting.pca_dim)
        pvae.fit(pca, train, epochs=setting.pca_epochs, batch_size=256, lr=1e-2, seed=0,
                 progress=False)
        add(f"LinearGaussian q={setting.pca_dim} (SVI)", "dequantized", pca, test)
        for prior, likelihood in setting.vaes:
            torch.manual_seed(0)
            vae = pvae.VAE((train.shape[1],), prior=prior, likelihood=likelihood, **setting.vae)
            binary = _label(likelihood) == "bernoulli"
            pvae.fit(vae, train_binary if binary else train, epochs=setting.vae_epochs,
                     batch_size=128, lr=1e-3, seed=0, progress=False)
            add(f"VAE {prior} prior, {_label(likelihood)}", "binarized" if binary
                else "dequantized", vae, test_binary if binary else test)
        _against_the_best(best)
        figure = bounds_against_k(ladders, title=f"{setting.name}: bounds against k "
                                  "(dequantized and binarized rows are different spaces)")
        table.figures.append((f"likelihood_ladder_{setting.name.lower()}.png", figure))
    table.notes += [
        "Every number is the mean log-likelihood (or bound) per held-out datapoint in nats, "
        "higher is better. 'dequantized': grey levels k/(L-1) -> (k + u)/L, u ~ U(0,1), a "
        "density on [0,1]^D that every continuous model scores; 'binarized': one Bernoulli "
        "draw per pixel, scored by the Bernoulli VAEs only. The two spaces are not comparable.",
        "IWAE-k uses the first k of the same 5000 importance samples per datapoint; the ELBO is "
        "the mean over all of them. MNIST rows score the first 1000 test images; its mixture "
        "is fitted on 10 000 training images.",
        f"Every value ± one standard error over the test images. '{CLOSED}': what the largest "
        f"IWAE-k gains over the ELBO; '{LEFT}': what it still misses of the exact value; "
        f"'{AGAINST}': each model's best estimate (exact, else the largest IWAE-k) minus the "
        "best model's in its space. Each is a mean difference on the same images with its "
        "paired standard error: the images' own spread cancels, so a difference is real when "
        "it is several of its standard errors, and a Monte Carlo rung can cross the exact "
        "value by noise (a negative 'left' within its error).",
    ]
    return table
