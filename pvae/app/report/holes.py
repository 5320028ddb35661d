"""The seed's argument, shown and measured: an autoencoder's latent space has holes, a VAE's not.

One function for the demo (8x8 digits) and for the MNIST benchmark: from an autoencoder and
a VAE built from the same networks (and, optionally, both with a 2-D latent), it measures the
holes (:func:`pvae.holes`) and draws the three figures a reader compares at a glance —
interpolations, samples from the prior and from a Gaussian fitted to each model's codes, and
the 2-D codes over the prior.
"""

from __future__ import annotations

from typing import Any

import torch

from ... import plots
from ...estimate import Holes, holes
from .figures import Figures

__all__ = ["autoencoder_against_vae", "fitted_gaussian_draws", "hole_table"]


def fitted_gaussian_draws(codes: torch.Tensor, n: int, seed: int = 0) -> torch.Tensor:
    """``n`` draws from the Gaussian with the codes' mean and covariance.

    The fairest way to sample an autoencoder, whose codes need not follow its prior.
    """
    codes = codes.double()
    mean = codes.mean(0)
    covariance = torch.cov(codes.T).reshape(codes.shape[1], codes.shape[1])
    jitter = 1e-6 * covariance.diagonal().mean() * torch.eye(len(mean), dtype=codes.dtype)
    generator = torch.Generator().manual_seed(seed)
    noise = torch.randn(n, len(mean), generator=generator, dtype=codes.dtype)
    return mean + noise @ torch.linalg.cholesky(covariance + jitter).T


def hole_table(measured: dict[str, Holes]) -> list[str]:
    """The measures as markdown rows under their header."""
    lines = ["| model | prior draws in holes | interpolation points in holes | median distance "
             "of a prior draw (code spacings) | prior mass covered |",
             "|---|---|---|---|---|"]
    for name, result in measured.items():
        coverage = "—" if result.coverage is None else f"{result.coverage:.0%}"
        lines.append(f"| {name} | {result.prior.share:.1%} | {result.interpolation.share:.1%} "
                     f"| {float(result.prior.distance.median()):.2f} | {coverage} |")
    return lines


def _decoded(model: Any, codes: torch.Tensor) -> torch.Tensor:
    return model.decode(codes.to(next(model.parameters())))


def autoencoder_against_vae(models: dict[str, Any], train: torch.Tensor, test: torch.Tensor,
                            figures: Figures, *, prefix: str = "", flat: dict[str, Any] | None
                            = None, columns: int = 10, seed: int = 0) -> list[str]:
    """Measure and draw ``models`` (``{"autoencoder": ..., "VAE": ...}``); report lines.

    ``train`` supplies the training codes the holes are measured against, ``test`` the
    images to interpolate between; ``flat`` holds the 2-D versions for the codes figure.
    Figures are added to ``figures`` under names starting with ``prefix``.
    """
    measured = {name: holes(model, train, seed=seed) for name, model in models.items()}
    flat_measured = {f"{name} (2-D)": holes(model, train, seed=seed)
                     for name, model in (flat or {}).items()}
    generator = torch.Generator().manual_seed(seed)
    ends = torch.randperm(len(test), generator=generator)[:6].reshape(3, 2)
    paths = {f"{name}, pair {i + 1}": model.interpolate(test[a], test[b], steps=columns)
             for i, (a, b) in enumerate(ends.tolist()) for name, model in models.items()}
    figures[f"{prefix}interpolation"] = (
        plots.image_rows(paths, title="Walking between two test images' codes"),
        "Decoding the straight line between the codes of two test images, by each model "
        "(rows of the same pair one above the other). The VAE's decoder was trained on codes "
        "with noise around them and covering the prior; the autoencoder's only on its points.")
    samples: dict[str, torch.Tensor] = {}
    for name, model in models.items():
        samples[f"{name}, z ~ prior"] = model.sample(columns)
        fitted = fitted_gaussian_draws(measured[name].codes, columns, seed)
        samples[f"{name}, z ~ fitted Gaussian"] = _decoded(model, fitted)
    figures[f"{prefix}prior_samples"] = (
        plots.image_rows(samples, title="Decoding random codes"),
        "Codes drawn from the prior N(0, I), and from a Gaussian fitted to each model's "
        "training codes (the fairest way to sample an autoencoder), decoded to their "
        "expected pixels.")
    if flat_measured:
        figures[f"{prefix}codes_over_prior"] = (
            plots.codes_over_prior(flat_measured),
            "The 2-D models' training codes (orange) over the prior's density (grey), with "
            "prior draws marked red where they fall in a hole: farther from every training "
            "code than 99% of the codes are from their nearest neighbour.")
    return [*hole_table({**measured, **flat_measured}), "",
            "A code is *in a hole* when it lies farther from every training code than 99% of "
            "the training codes lie from their nearest neighbour (`pvae.holes`); distances are "
            "in units of the codes' median spacing. Prior mass covered is "
            "∫ min(p(z), q(z)) dz for the aggregate posterior q(z): a point-mass encoder has "
            "none to give."]
