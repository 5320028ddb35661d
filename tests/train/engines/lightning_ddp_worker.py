"""Run by test_lightning.py beside it: two CPU processes (gloo) train a small VAE under DDP.

Lightning's "ddp" strategy starts the second process by running this script again; every
process writes what it saw and where it ended to OUT/rank-<r>.pt.
"""

import sys
from pathlib import Path

import torch

import pvae
from pvae.data import digits, dynamic_binarization
from pvae.train.engines.lightning import LightningEngine


def main(out: Path) -> None:
    torch.manual_seed(0)  # the same initial weights on both processes (DDP checks, too)
    vae = pvae.VAE((64,), 2, encoder={"name": "mlp", "hidden": [32]},
                   decoder={"name": "mlp", "hidden": [32]})
    x = digits().train[:600]
    engine = LightningEngine(devices=2, strategy="ddp")
    result = pvae.fit(vae, x, epochs=4, batch_size=50, lr=5e-3, transform=dynamic_binarization,
                      seed=0, device="cpu", progress=False, engine=engine)
    trainer, module = engine.trainer, engine.module
    torch.save({"rank": trainer.global_rank, "world": trainer.world_size,
                "seen": module.seen, "losses": result.losses,
                "parameters": {k: v.detach().clone() for k, v in vae.state_dict().items()}},
               out / f"rank-{trainer.global_rank}.pt")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
