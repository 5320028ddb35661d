"""One SVI step of pvae's VAE against a hand-written PyTorch VAE of the same architecture."""

from __future__ import annotations

import math
import time

import torch
from torch import nn
from torch.nn.functional import binary_cross_entropy_with_logits, softplus

import pvae
from pvae.data import MNISTNotFoundError, mnist

from .table import SHARED_MNIST, Table, alternating_medians, peak_rss_mb

HIDDEN, Z_DIM, BATCH = 400, 50, 128
OBJECTIVES = {"Trace_ELBO": "elbo", "JitTrace_ELBO": {"name": "elbo", "jit": True}}


class HandWrittenVAE(nn.Module):
    """784-400-50 Bernoulli VAE, the same estimator as Trace_ELBO, in plain PyTorch."""

    def __init__(self, x_dim: int) -> None:
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(x_dim, HIDDEN), nn.ReLU(),
                                     nn.Linear(HIDDEN, 2 * Z_DIM))
        self.decoder = nn.Sequential(nn.Linear(Z_DIM, HIDDEN), nn.ReLU(),
                                     nn.Linear(HIDDEN, x_dim))

    def loss(self, x: torch.Tensor, num_data: int) -> torch.Tensor:
        """The negative single-sample ELBO of a minibatch, scaled to ``num_data`` rows."""
        loc, raw = self.encoder(x).chunk(2, -1)
        scale = softplus(raw) + 1e-4
        z = loc + scale * torch.randn_like(loc)
        log_q = torch.distributions.Normal(loc, scale).log_prob(z).sum(-1)
        log_prior = torch.distributions.Normal(0.0, 1.0).log_prob(z).sum(-1)
        log_lik = -binary_cross_entropy_with_logits(self.decoder(z), x, reduction="none").sum(-1)
        return -(log_lik + log_prior - log_q).sum() * (num_data / x.shape[0])


def _train_by_hand(model: HandWrittenVAE, optimizer: torch.optim.Optimizer, x: torch.Tensor,
                   steps: int) -> None:
    n = x.shape[0]
    per_epoch = math.ceil(n / BATCH)
    order = torch.randperm(n)
    for number in range(steps):
        position = number % per_epoch
        if position == 0:
            order = torch.randperm(n)
        batch = x[order[position * BATCH:(position + 1) * BATCH]]
        optimizer.zero_grad(set_to_none=True)
        model.loss(batch, n).backward()
        optimizer.step()


def _data(tiny: bool) -> tuple[torch.Tensor, str]:
    if not tiny:
        try:
            return pvae.data.binarize(mnist(SHARED_MNIST).train, "static"), "MNIST"
        except MNISTNotFoundError:
            pass
    generator = torch.Generator().manual_seed(0)
    return torch.bernoulli(torch.full((2048, 784), 0.2), generator=generator), "random binary"


def run(tiny: bool) -> Table:
    """Time SVI steps side by side, then one MNIST epoch (not in tiny mode)."""
    x, source = _data(tiny)
    steps = 20 if tiny else 300
    subset = x[: BATCH * 50]  # small enough that fit's one-off data check is negligible
    torch.manual_seed(0)
    vaes = {name: pvae.VAE((784,), Z_DIM, encoder={"name": "mlp", "hidden": [HIDDEN]},
                           decoder={"name": "mlp", "hidden": [HIDDEN]}, objective=objective)
            for name, objective in OBJECTIVES.items()}
    hand = HandWrittenVAE(784)
    hand_optimizer = torch.optim.Adam(hand.parameters(), lr=1e-3)

    def by_pvae(vae: pvae.VAE) -> None:
        pvae.fit(vae, subset, steps=steps, batch_size=BATCH, lr=1e-3, device="cpu",
                 progress=False)

    runs = {name: (lambda vae=vae: by_pvae(vae)) for name, vae in vaes.items()}
    runs["hand"] = lambda: _train_by_hand(hand, hand_optimizer, subset, steps)
    timings = alternating_medians(runs, repeats=2 if tiny else 7)
    table = Table("speed", "One SVI step: pvae's VAE against a hand-written PyTorch VAE",
                  ["what", "value"])
    per_step = {name: 1000 * seconds / steps for name, seconds in timings.items()}
    table.add(what="hand-written step (ms)", value=per_step["hand"])
    for name in OBJECTIVES:
        table.add(what=f"pvae.fit step, {name} (ms)", value=per_step[name])
        table.add(what=f"ratio pvae ({name}) / hand-written",
                  value=per_step[name] / per_step["hand"])
    if not tiny:
        for name, vae in vaes.items():
            started = time.perf_counter()
            pvae.fit(vae, x, epochs=1, batch_size=BATCH, lr=1e-3, device="cpu", progress=False)
            table.add(what=f"one {source} epoch, {len(x)} images, {name} (s)",
                      value=time.perf_counter() - started)
    table.add(what="peak resident memory of the process (MB)", value=peak_rss_mb())
    table.notes += [
        f"784-{HIDDEN}-{Z_DIM} MLP encoder and decoder, Bernoulli likelihood, batch {BATCH}, "
        f"Adam; data: {source}. Both sides draw minibatches by index from the data in memory "
        "and compute the same single-sample ELBO estimator.",
        f"Medians of alternating runs of {steps} steps each in one process, after a warm-up; "
        f"{torch.get_num_threads()} CPU threads. The pvae side includes fit's one-off data "
        "check on 6 400 images.",
    ]
    return table
