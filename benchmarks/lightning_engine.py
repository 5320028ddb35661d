"""pvae's own loop against the same training handed to Lightning: one process, then DDP."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

import pvae
from pvae.data import MNISTNotFoundError, mnist

from .table import SHARED_MNIST, Table, alternating_medians, verdict

HIDDEN, Z_DIM, BATCH = 400, 50, 128
#: the time ratio this benchmark aims at (at most)
TARGET = 1.2


def _data(tiny: bool) -> tuple[torch.Tensor, torch.Tensor, str]:
    if not tiny:
        try:
            split = mnist(SHARED_MNIST)
            return (pvae.data.binarize(split.train), pvae.data.binarize(split.test[:2000], seed=1),
                    "MNIST")
        except MNISTNotFoundError:
            pass
    generator = torch.Generator().manual_seed(0)
    train = 256 if tiny else 1024
    x = torch.bernoulli(torch.full((train + train // 2, 784), 0.2), generator=generator)
    return x[:train], x[train:], "random binary"


def _vae() -> pvae.VAE:
    torch.manual_seed(0)
    return pvae.VAE((784,), Z_DIM, encoder={"name": "mlp", "hidden": [HIDDEN]},
                    decoder={"name": "mlp", "hidden": [HIDDEN]})


def _one_epoch(engine: str, tiny: bool, out: Path) -> None:
    """One epoch in this process (or, under DDP, in each of two); results to ``out``."""
    train, test, _ = _data(tiny)
    vae = _vae()
    started = time.perf_counter()
    options = {"epochs": 1, "batch_size": BATCH, "lr": 1e-3, "seed": 0, "progress": False,
               "device": "cpu"}
    if engine == "ddp":
        from pvae.train.engines.lightning import LightningEngine

        ddp = LightningEngine(devices=2, strategy="ddp")
        steps = pvae.fit(vae, train, engine=ddp, **options).steps
        assert ddp.trainer is not None
        rank = ddp.trainer.global_rank
    else:
        steps, rank = pvae.fit(vae, train, **options).steps, 0
    seconds = time.perf_counter() - started
    if rank == 0:
        elbo = pvae.elbo(vae, test).value
        out.write_text(json.dumps({"seconds": seconds, "steps": steps, "elbo": elbo}))


def _epoch_in_subprocess(engine: str, tiny: bool, threads: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "result.json"
        if tiny and engine == "pvae":  # the smoke run times nothing: no process of its own
            _one_epoch(engine, tiny, out)
            return json.loads(out.read_text())
        environment = {**os.environ, "OMP_NUM_THREADS": str(threads),
                       "PYTHONWARNINGS": "ignore"}
        command = [sys.executable, "-m", "benchmarks.lightning_engine", "--epoch", engine,
                   str(out), *(["--tiny"] if tiny else [])]
        subprocess.run(command, check=True, env=environment, capture_output=True,
                       cwd=Path(__file__).resolve().parents[1])
        return json.loads(out.read_text())


def run(tiny: bool) -> Table:
    """Per-step cost of Lightning against pvae's loop, then one epoch on 2 DDP processes."""
    train, _, source = _data(tiny)
    steps = 5 if tiny else 300
    subset = train[: BATCH * 50]
    vaes = {"pvae": _vae(), "lightning": _vae()}

    def by(engine: str) -> None:
        pvae.fit(vaes[engine], subset, steps=steps, batch_size=BATCH, lr=1e-3, device="cpu",
                 progress=False, engine=engine)

    timings = alternating_medians({engine: (lambda e=engine: by(e)) for engine in vaes},
                                  repeats=1 if tiny else 5)
    table = Table("lightning_engine", "Training through Lightning against pvae's own loop",
                  ["what", "value", "target", "met"])

    def add(what: str, value: Any, target: str = "") -> None:
        table.add(what=what, value=value, target=target,
                  met=verdict(value, TARGET) if target else "")

    add(what="pvae.fit step, pvae loop (ms)", value=1000 * timings["pvae"] / steps)
    add(what="pvae.fit step, engine='lightning', 1 process (ms)",
              value=1000 * timings["lightning"] / steps)
    add(what="ratio lightning / pvae loop", value=timings["lightning"] / timings["pvae"],
        target=f"<= {TARGET}")
    threads = torch.get_num_threads()
    single = _epoch_in_subprocess("pvae", tiny, threads)
    ddp = _epoch_in_subprocess("ddp", tiny, max(threads // 2, 1))
    add(what=f"one epoch, pvae loop, 1 process x {threads} threads (s)",
              value=single["seconds"])
    add(what=f"one epoch, Lightning DDP, 2 processes x {max(threads // 2, 1)} "
                   "thread(s) (s)", value=ddp["seconds"])
    add(what="optimiser steps in that epoch, pvae loop / DDP per process",
              value=f"{single['steps']:.0f} / {ddp['steps']:.0f}")
    add(what="test ELBO after one epoch, pvae loop (nats)", value=single["elbo"])
    add(what="test ELBO after one epoch, DDP (nats)", value=ddp["elbo"])
    table.notes += [
        f"784-{HIDDEN}-{Z_DIM} Bernoulli VAE, Adam lr 1e-3, batch {BATCH} per process; data: "
        f"{source} ({len(train)} training images). Step times: medians of alternating runs "
        f"of {steps} steps in one process (Lightning's per-fit start-up included).",
        "The epochs run in fresh processes on this machine's CPU cores; DDP splits the data "
        "in two shards and averages the gradients, so each step sees 2 x 128 images and an "
        "epoch takes half the steps: with the same learning rate it ends at a lower ELBO.",
    ]
    return table


if __name__ == "__main__":
    if sys.argv[1:2] == ["--epoch"]:
        _one_epoch(sys.argv[2], "--tiny" in sys.argv, Path(sys.argv[3]))
