"""The report's fourth section: where each model's gap comes from, and what its KL pays for."""

from __future__ import annotations

from typing import Any

import torch

from ... import plots
from ...estimate import Gaps, ais, gaps, iwae_ladder, latent_usage
from ...pair import exact_log_likelihood
from .figures import Figures

__all__ = ["gap_section"]


def gap_section(models: dict[str, Any], test: torch.Tensor, *, quick: bool,
                figures: Figures) -> list[str]:
    """Gaps of the linear-Gaussian model and the VAE, the VAE's latent usage; report lines."""
    rows = test[:40] if quick else test[:150]
    steps, ais_steps = (30, 20) if quick else (300, 300)
    split: dict[str, Gaps] = {}
    ladders = {}
    for name, pair in models.items():
        truth = None if exact_log_likelihood(pair) is not None else ais(
            pair, rows, steps=ais_steps, chains=8, leapfrog=5)
        split[name] = gaps(pair, rows, steps=steps, log_likelihood=truth)
        ladders[name] = iwae_ladder(pair, rows, [10, 100])[1]
    vae = next(pair for name, pair in models.items() if name.startswith("VAE"))
    usage = latent_usage(vae, test)
    figures["gaps"] = (
        plots.gap_bars(split, iwae=ladders),
        "How many nats each model's ELBO lies below log p(x) on test images, split into the "
        "approximation gap (the guide's family cannot match the posterior) and the "
        "amortisation gap (the encoder misses the best member of that family for each "
        "image); the markers show how far IWAE-10 and IWAE-100 still are from log p(x).")
    figures["latent_usage"] = (
        plots.latent_usage(usage, title="The VAE's latent dimensions"),
        "The VAE's KL term per latent dimension and each dimension's activity (how much its "
        "posterior mean moves across test images): dimensions below the dashed line carry no "
        "information about the image, whatever KL they cost.")
    lines = [
        "## 4. Where the gap comes from, and what the KL pays for",
        "",
        f"On {len(rows)} test images. The local ELBO fits the guide's family to each image "
        "alone; log p(x) is exact for the linear-Gaussian model and AIS for the VAE.",
        "",
        "| model | log p(x) | local ELBO | ELBO | approximation gap | amortisation gap |",
        "|---|---|---|---|---|---|",
        *(f"| {name} | {g.log_likelihood.value:.3f} ({g.log_likelihood.name}) | "
          f"{g.local_elbo.value:.3f} | {g.elbo.value:.3f} | {g.approximation.value:.3f} ± "
          f"{g.approximation.stderr:.3f} | {g.amortization.value:.3f} ± "
          f"{g.amortization.stderr:.3f} |" for name, g in split.items()),
        "",
        f"The VAE's KL term, {usage.kl:.3f} nats per image, is mutual information "
        f"{usage.mutual_information:.3f} (at most log N = "
        f"{torch.tensor(float(len(test))).log():.3f}) plus marginal KL "
        f"{usage.marginal_kl:.3f}; {usage.active_units} of {len(usage.activity)} latent "
        "units are active.",
        "",
    ]
    return lines
