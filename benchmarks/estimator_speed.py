"""IWAE-k throughput: pvae's estimator against a hand-written batched PyTorch estimator."""

from __future__ import annotations

import math

import torch
from torch.nn.functional import binary_cross_entropy_with_logits, softplus

import pvae
from pvae.guides.normal import MIN_SCALE

from .table import PlusMinus, Table, alternating_medians, peak_rss_mb, verdict

HIDDEN, Z_DIM = 400, 50
#: the time ratio this benchmark aims at (at most)
TARGET = 1.2


def _hand_iwae(vae: pvae.VAE, x: torch.Tensor, k: int, batch_size: int,
               per_chunk: int) -> torch.Tensor:
    """IWAE-k per datapoint for a Normal-prior, Normal-guide, Bernoulli VAE, by hand."""
    encoder, decoder = vae.guide.encoder, vae.model.decoder
    out = []
    with torch.no_grad():
        for start in range(0, len(x), batch_size):
            batch = x[start:start + batch_size]
            loc, raw = encoder(batch).unbind(-2)
            scale = softplus(raw) + MIN_SCALE
            running = torch.full((len(batch),), -math.inf)
            for first in range(0, k, per_chunk):
                count = min(per_chunk, k - first)
                eps = torch.randn(count, *loc.shape)
                z = loc + scale * eps
                log_q = (-0.5 * eps**2 - scale.log() - 0.5 * math.log(2 * math.pi)).sum(-1)
                log_prior = (-0.5 * z**2 - 0.5 * math.log(2 * math.pi)).sum(-1)
                logits = decoder(z)
                log_lik = -binary_cross_entropy_with_logits(
                    logits, batch.expand_as(logits), reduction="none").sum(-1)
                log_w = log_lik + log_prior - log_q
                running = torch.logaddexp(running, torch.logsumexp(log_w, 0))
            out.append(running - math.log(k))
    return torch.cat(out)


def run(tiny: bool) -> Table:
    """Time IWAE-k on the same VAE and images both ways, alternating."""
    k = 100 if tiny else 5000
    n = 20 if tiny else 200
    batch_size = 20 if tiny else 100
    torch.manual_seed(0)
    x = torch.bernoulli(torch.full((n, 784), 0.15))
    vae = pvae.VAE((784,), Z_DIM, encoder={"name": "mlp", "hidden": [HIDDEN]},
                   decoder={"name": "mlp", "hidden": [HIDDEN]})
    per_chunk = max(1, pvae.estimate.importance.CHUNK_ELEMENTS // (batch_size * 784))
    results: dict[str, torch.Tensor] = {}

    def by_pvae() -> None:
        results["pvae"] = pvae.iwae(vae, x, k, batch_size=batch_size).per_datapoint

    def by_hand() -> None:
        results["hand"] = _hand_iwae(vae, x, k, batch_size, per_chunk)

    seconds = alternating_medians({"pvae": by_pvae, "hand": by_hand}, repeats=1 if tiny else 3)
    table = Table("estimator_speed", f"IWAE-{k}: pvae's estimator against a hand-written one",
                  ["what", "value", "target", "met"])
    ratio = seconds["pvae"] / seconds["hand"]
    means = {side: PlusMinus(float(values.mean()), float(values.std()) / len(values) ** 0.5)
             for side, values in results.items()}
    for what, value, target in (
            ("hand-written, images per second", n / seconds["hand"], ""),
            ("pvae.iwae, images per second", n / seconds["pvae"], ""),
            ("time ratio pvae / hand-written", ratio, f"<= {TARGET}"),
            ("mean IWAE, pvae (nats)", means["pvae"], ""),
            ("mean IWAE, hand-written (nats)", means["hand"], ""),
            ("importance samples per chunk", per_chunk, ""),
            ("peak resident memory of the process (MB)", peak_rss_mb(), "")):
        table.add(what=what, value=value, target=target,
                  met=verdict(ratio, TARGET) if target else "")
    table.notes += [
        f"784-{HIDDEN}-{Z_DIM} VAE (Bernoulli likelihood, untrained: the cost does not depend "
        f"on the weights), {n} binary images, k = {k}, {batch_size} images per data chunk and "
        f"{per_chunk} samples per sample chunk on both sides; medians of alternating runs.",
        "The two means differ only by Monte Carlo error: both estimate the same bound (± one "
        "standard error over the images). The time ratio's target: at most "
        f"{TARGET}x the hand-written estimator.",
    ]
    return table
