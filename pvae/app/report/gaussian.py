"""The report's first section: a Gaussian's maximum likelihood, then its posterior by NUTS."""

from __future__ import annotations

from typing import Any

import arviz as az
import torch

from ... import plots
from ...models import BayesianGaussian, Gaussian
from ...posterior import mcmc
from ...train import fit
from .figures import Figures

__all__ = ["gaussian_section"]


def gaussian_section(train: torch.Tensor, test: torch.Tensor, seed: int, device: str,
                     quick: bool, figures: Figures) -> tuple[list[str], tuple[str, str, float]]:
    """Fit the Gaussian to the mean ink; its report lines and its test score."""
    closed_loc, closed_scale = Gaussian.closed_form(train)
    gaussian = Gaussian()
    fit(gaussian, train, steps=200 if quick else 1500, lr=0.2, lr_decay=1e-3, seed=seed,
        device=device)
    gaussian.cpu()
    sampling: dict[str, Any] = ({"num_samples": 100, "warmup": 100, "chains": 1} if quick
                else {"num_samples": 150, "warmup": 100, "chains": 2})
    trees = {name: mcmc(BayesianGaussian(family), train, seed=seed, **sampling)
             for name, family in (("normal", "normal"), ("student_t", "student_t"))}
    ranking = az.compare(trees, round_to="none")  # ArviZ 1.x: None rounds
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
