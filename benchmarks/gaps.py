"""Where the gap comes from, per model: approximation, amortisation, and the KL's two parts.

For each model on the same held-out images: log p(x) (AIS), the local ELBO (the guide's
family fitted to each image), the amortised ELBO, the two gaps between them, and the
latent usage (active units, mutual information, marginal KL), with the seconds each took.
"""

from __future__ import annotations

import time
from typing import Any

import torch

import pvae
from pvae import plots
from pvae.data import binarize, digits, mnist

from .table import SHARED_MNIST, PlusMinus, Table, peak_rss_mb
from .trained import MNIST_MODELS, NETS, trained_vae


def _measure(table: Table, name: str, vae: pvae.VAE, test: torch.Tensor,
             settings: dict[str, Any], found: dict[str, pvae.Gaps]) -> None:
    started = time.perf_counter()
    truth = pvae.ais(vae, test, steps=settings["ais_steps"], chains=8, leapfrog=5)
    split = pvae.gaps(vae, test, steps=settings["steps"], log_likelihood=truth)
    gap_seconds = time.perf_counter() - started
    started = time.perf_counter()
    usage = pvae.latent_usage(vae, test)
    found[name] = split
    table.add(**{
        "model": name, "log p(x) (AIS)": PlusMinus.of(split.log_likelihood),
        "local ELBO": PlusMinus.of(split.local_elbo), "ELBO": PlusMinus.of(split.elbo),
        "approximation gap": PlusMinus.of(split.approximation),
        "amortisation gap": PlusMinus.of(split.amortization),
        "active units": f"{usage.active_units} / {len(usage.activity)}",
        "KL = I(x;z) + marginal KL": f"{usage.kl:.2f} = {usage.mutual_information:.2f} + "
                                     f"{usage.marginal_kl:.2f}",
        "seconds (gaps, usage)": f"{gap_seconds:.0f}, {time.perf_counter() - started:.0f}",
        "peak MB": peak_rss_mb(),
    })


def run(tiny: bool) -> Table:
    """Digits always; the three MNIST models (cached by the sandwich benchmark) when there."""
    columns = ["model", "log p(x) (AIS)", "local ELBO", "ELBO", "approximation gap",
               "amortisation gap", "active units", "KL = I(x;z) + marginal KL",
               "seconds (gaps, usage)", "peak MB"]
    rows = 30 if tiny else 300
    table = Table("gaps", f"Where the gap comes from, nats per image on {rows} held-out "
                  "images", columns)
    settings = {"steps": 10, "ais_steps": 10} if tiny else {"steps": 300, "ais_steps": 300}
    small = {"encoder": {"name": "mlp", "hidden": [32]}, "decoder": {"name": "mlp",
                                                                      "hidden": [32]}}
    split = digits()
    found: dict[str, pvae.Gaps] = {}
    budget = 0.5 if tiny else 30.0
    for name, options in (("digits VAE z=8", {}), ("digits VAE z=8, flow guide",
                                                   {"guide": "flow"})):
        vae = trained_vae(name, options, split.train, 64, 8, small if tiny else NETS,
                          budget, cached=False)
        _measure(table, name, vae, binarize(split.test, "static", seed=0)[:rows], settings,
                 found)
    if not tiny and SHARED_MNIST.exists():
        data = mnist(SHARED_MNIST)
        test = binarize(data.test, "static", seed=0)[:rows]
        for name, options in MNIST_MODELS.items():
            vae = trained_vae(name, options, data.train, 784, 50, NETS, 120.0, cached=True)
            _measure(table, name, vae, test, settings, found)
    table.figures.append(("gaps.png", plots.gap_bars(found)))
    table.notes += [
        "log p(x) by AIS from the guide (300 temperatures, 8 chains, full mode); the local "
        "ELBO fits each image's own Normal (300 Adam steps, started at the encoder's output; "
        "for the flow guide the flows stay as the encoder conditions them, so its "
        "approximation gap is an upper bound). approximation = log p(x) − local ELBO, "
        "amortisation = local ELBO − ELBO. Every value ± one standard error over the images; "
        "the gaps are differences on the same images, so theirs are paired standard errors "
        "(far smaller than those of the estimates they separate).",
        "Latent usage on the same images: a unit is active when Cov_x(E_q[z_d]) > 0.01; "
        "I(x;z) is against the aggregate posterior of these images (at most log N).",
        "MNIST models: the sandwich benchmark's (120 s of CPU training each, cached in "
        "results/models).",
    ]
    return table
