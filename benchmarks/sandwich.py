"""How tight is the bound? ELBO, IWAE-k, AIS and the BDMC sandwich on the same models.

For each model: the ELBO and IWAE-k on held-out images, AIS at three numbers of
temperatures, and the BDMC sandwich on points simulated from the model, each with its
seconds and the process's peak memory; then pvae's AIS against a hand-written batched AIS
of the same schedule and the same HMC on the standard VAE.
"""

from __future__ import annotations

import math
import time
from typing import Any

import torch
from torch.nn.functional import binary_cross_entropy_with_logits

import pvae
from pvae import plots
from pvae.anneal import ADAPTATION, FIRST_STEP_SIZE
from pvae.data import binarize, dequantize, digits, mnist
from pvae.estimate.ais import sigmoid_schedule

from .table import (
    SHARED_MNIST,
    PlusMinus,
    Table,
    alternating_medians,
    convergence_note,
    peak_rss_mb,
    verdict,
)
from .trained import MNIST_MODELS, NETS, trained_vae


def _timed(function: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    value = function()
    return value, time.perf_counter() - started


def hand_written_ais(vae: pvae.VAE, x: torch.Tensor, steps: int, chains: int,
                     leapfrog: int, target: float = 0.65) -> torch.Tensor:
    """AIS for a Bernoulli VAE with a N(0, I) prior and a Normal guide, in plain torch.

    The same sigmoid schedule, start (the guide), leapfrog HMC with unit masses and per-row
    step sizes adapting as pvae's do; returns log p(x) per row.
    """
    with torch.no_grad():
        loc, scale = vae.guide.encode(x)
    decoder = vae.model.decoder
    rows = x.shape[0]

    def ends(z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        logits = decoder(z)
        log_lik = -binary_cross_entropy_with_logits(logits, x.expand_as(logits),
                                                    reduction="none").sum(-1)
        log_prior = -0.5 * (z.pow(2) + math.log(2 * math.pi)).sum(-1)
        log_start = (-0.5 * ((z - loc) / scale).pow(2) - scale.log()
                     - 0.5 * math.log(2 * math.pi)).sum(-1)
        return log_lik + log_prior, log_start

    def energy_and_grad(z: torch.Tensor, beta: float) -> tuple[torch.Tensor, ...]:
        z = z.detach().requires_grad_(True)
        joint, start = ends(z)
        energy = -((1 - beta) * start + beta * joint)
        (grad,) = torch.autograd.grad(energy.sum(), z)
        return energy.detach(), grad, joint.detach(), start.detach()

    betas = sigmoid_schedule(steps)
    z = loc + scale * torch.randn(chains, *loc.shape, dtype=loc.dtype)
    with torch.no_grad():
        joint, start = ends(z)
    step = torch.full((1, rows, 1), FIRST_STEP_SIZE, dtype=loc.dtype)
    log_w = torch.zeros(chains, rows, dtype=loc.dtype)
    for t in range(1, steps + 1):
        beta = float(betas[t])
        log_w = log_w + float(betas[t] - betas[t - 1]) * (joint - start)
        if t == steps:
            break
        momentum = torch.randn_like(z)
        energy, grad, _, _ = energy_and_grad(z, beta)
        current = energy + 0.5 * momentum.pow(2).sum(-1)
        position, speed = z, momentum
        for _ in range(leapfrog):
            speed = speed - 0.5 * step * grad
            position = position + step * speed
            new_energy, grad, new_joint, new_start = energy_and_grad(position, beta)
            speed = speed - 0.5 * step * grad
        proposed = new_energy + 0.5 * speed.pow(2).sum(-1)
        accept = torch.rand_like(current).log() < (current - proposed).nan_to_num(nan=-math.inf)
        z = torch.where(accept[..., None], position, z)
        joint = torch.where(accept, new_joint, joint)
        start = torch.where(accept, new_start, start)
        rate = accept.to(loc.dtype).mean(0)
        step = step * torch.exp(ADAPTATION * (rate - target)).reshape(step.shape)
    return torch.logsumexp(log_w, 0) - math.log(chains)


#: pvae's AIS may cost at most this many times a hand-written one of the same schedule
TARGET = 1.2
#: the column of each estimate's paired difference from the estimate in the row above
GAIN = "gain over the row above (paired)"


def _row(table: Table, model: str, estimate: str, value: float | PlusMinus, seconds: float,
         note: str = "", gain: PlusMinus | str = "") -> None:
    table.add(model=model, estimate=estimate, nats=value, **{GAIN: gain}, seconds=seconds,
              target="", met="", **{"peak MB": peak_rss_mb(), "note": note})


def _score(table: Table, name: str, vae: pvae.VAE, test: torch.Tensor, *, ks: list[int],
           ais_steps: list[int], chains: int, leapfrog: int, simulated: int,
           bdmc_steps: int) -> None:
    (elbo, ladder), seconds = _timed(lambda: pvae.iwae_ladder(vae, test, ks))
    _row(table, name, "ELBO", PlusMinus.of(elbo), seconds,
         f"{len(test)} test images, same samples")
    above: pvae.Estimate = elbo
    for estimate in ladder:
        _row(table, name, estimate.name.upper(), PlusMinus.of(estimate), seconds,
             "IWAE rows share one pass", PlusMinus.difference(estimate, above))
        above = estimate
    for steps in ais_steps:
        found, seconds = _timed(lambda s=steps: pvae.ais(vae, test, steps=s, chains=chains,
                                                         leapfrog=leapfrog))
        assert found.acceptance is not None and found.ess is not None
        _row(table, name, f"AIS-{steps}", PlusMinus.of(found), seconds,
             f"{chains} chains, {leapfrog} leapfrog; acceptance "
             f"{float(found.acceptance.mean()):.2f}, ESS {float(found.ess.mean()):.1f}; "
             f"{convergence_note(found.convergence)}",
             PlusMinus.difference(found, above))
        above = found
    sandwich, seconds = _timed(lambda: pvae.bdmc(vae, simulated, steps=bdmc_steps,
                                                 chains=chains, leapfrog=leapfrog,
                                                 ks=(ks[-1],)))
    _row(table, name, f"BDMC width ({simulated} simulated, {bdmc_steps} steps)",
         PlusMinus.difference(sandwich.upper, sandwich.lower), seconds,
         f"lower {sandwich.lower.value:.3f}, upper {sandwich.upper.value:.3f}, ELBO "
         f"{sandwich.elbo.value:.3f}, IWAE-{ks[-1]} {sandwich.iwae[-1].value:.3f}")


def _against_hand_written(table: Table, name: str, vae: pvae.VAE, test: torch.Tensor,
                          steps: int, chains: int, leapfrog: int) -> None:
    runs = {
        # the same work on both sides: one annealing, without pvae's convergence check
        "pvae": lambda: pvae.ais(vae, test, steps=steps, chains=chains, leapfrog=leapfrog,
                                 batch_size=len(test), check_convergence=False),
        "hand": lambda: hand_written_ais(vae, test, steps, chains, leapfrog),
    }
    timings = alternating_medians(runs, repeats=3)
    ratio = timings["pvae"] / timings["hand"]
    table.add(model=name, estimate=f"pvae AIS-{steps} / hand-written AIS-{steps} (time)",
              nats=float("nan"), **{GAIN: ""}, seconds=ratio, target=f"<= {TARGET}",
              met=verdict(ratio, TARGET), **{"peak MB": peak_rss_mb(),
                 "note": f"medians of 3 alternating runs: {timings['pvae']:.2f} s against "
                         f"{timings['hand']:.2f} s, {len(test)} images x {chains} chains"})


def _curve(table: Table, name: str, file_name: str, pair: Any, steps: list[int],
           simulated: int, chains: int, leapfrog: int, exact: bool = False) -> None:
    """BDMC on the same simulated points at several step counts, and its figure."""
    runs = [pvae.bdmc(pair, simulated, steps=s, chains=chains, leapfrog=leapfrog, ks=(100,),
                      seed=1) for s in steps]
    truth = float(pair.log_likelihood(runs[0].data.x).mean()) if exact else None
    for run in runs:
        _row(table, name, f"BDMC width, {run.lower.name.rsplit('-', 1)[1]} steps",
             PlusMinus.difference(run.upper, run.lower), float("nan"),
             f"lower {run.lower.value:.3f}, upper {run.upper.value:.3f}"
             + (f", exact {truth:.3f}" if truth is not None else ""))
    table.figures.append((file_name, plots.sandwich(runs, exact=truth, title=(
        f"{name}: log p(x) of {simulated} simulated points between two bounds"))))


def run(tiny: bool) -> Table:
    """Digits always; the three MNIST models when the data are there and not tiny."""
    table = Table("sandwich", "How tight is the bound? ELBO, IWAE-k, AIS and BDMC",
                  ["model", "estimate", "nats", GAIN, "seconds", "target", "met", "peak MB",
                   "note"])
    split = digits()
    if tiny:
        settings: dict[str, Any] = {"ks": [10, 50], "ais_steps": [3, 10], "chains": 4,
                                    "leapfrog": 2, "simulated": 10, "bdmc_steps": 10}
        budget, rows, nets = 2.0, 40, {"encoder": {"name": "mlp", "hidden": [32]},
                                       "decoder": {"name": "mlp", "hidden": [32]}}
    else:
        settings = {"ks": [1000, 5000], "ais_steps": [30, 100, 300], "chains": 8,
                    "leapfrog": 5, "simulated": 100, "bdmc_steps": 300}
        budget, rows, nets = 120.0, 500, NETS
    test = binarize(split.test, "static", seed=0)[:rows]
    vae = trained_vae("digits VAE", {}, split.train, 64, 8, nets, budget / 4, cached=False)
    _score(table, "digits VAE z=8", vae, test, **settings)
    curve = [2, 5] if tiny else [10, 30, 100, 300, 1000]
    common = {"simulated": settings["simulated"], "chains": settings["chains"],
              "leapfrog": settings["leapfrog"]}
    _curve(table, "digits VAE z=8", "sandwich_digits_vae.png", vae, curve, **common)
    linear = pvae.LinearGaussian(64, 10).double()
    linear.set_closed_form(dequantize(split.train.double(), 17, 0), exact_guide=False)
    _curve(table, "digits linear-Gaussian q=10, prior-like guide", "sandwich_linear_gaussian.png",
           linear, curve, exact=True, **common)
    _against_hand_written(table, "digits VAE z=8", vae, test, settings["ais_steps"][-1],
                          settings["chains"], settings["leapfrog"])
    if not tiny and SHARED_MNIST.exists():
        data = mnist(SHARED_MNIST)
        test = binarize(data.test, "static", seed=0)[:rows]
        for name, options in MNIST_MODELS.items():
            model = trained_vae(name, options, data.train, 784, 50, NETS, budget, cached=True)
            _score(table, name, model, test, **settings)
            if not options:
                _against_hand_written(table, name, model, test, 100, settings["chains"],
                                      settings["leapfrog"])
    table.notes += [
        "Nats per datapoint, higher is better; every lower bound sits below log p(x). AIS "
        "starts from the guide, on a sigmoid schedule, HMC with per-image step sizes adapting "
        "towards 65% acceptance. The BDMC rows simulate points from each model and sandwich "
        "their log p(x) between forward AIS (lower) and reverse AIS from the exact codes "
        "(upper); the note gives the ELBO and IWAE-k on the same simulated points.",
        "± one standard error over the datapoints. Each estimate's gain over the row above "
        "is their mean difference on the same images with its paired standard error (the "
        "images' own spread cancels): a gain within two of them is noise, so a bound can "
        "land below a looser one by chance. A BDMC width is upper − lower on the same "
        "simulated points, with its paired standard error. The time ratio's target: at most "
        f"{TARGET}x a hand-written batched AIS.",
        f"Models: 784-400-50 MLPs (MNIST, {budget:.0f} s of CPU training each, cached in "
        "results/models) and a 64-32/400-8 digits VAE; Bernoulli pixels, dynamic "
        "binarization, test images binarized once. Peak memory is the process's so far.",
    ]
    return table
