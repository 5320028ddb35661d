"""The training log a user opens while a run goes on: ``history.csv``, and TensorBoard.

``OUT/history.csv`` is rewritten after every epoch (one row per epoch, a column per curve:
the training objective, the validation objective, the ELBO's reconstruction and KL terms, in
nats per datapoint); with ``[train] tensorboard = true`` the same curves go to
``OUT/tensorboard`` as scalars (``tensorboard --logdir OUT``).
"""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Any

from ..train import History

__all__ = ["TrainingLog", "write_csv"]

#: what each curve is called in TensorBoard
SCALARS = {"loss": "objective/train", "validation": "objective/validation",
           "reconstruction": "elbo_terms/reconstruction", "kl": "elbo_terms/kl"}


def write_csv(path: Path, history: History) -> None:
    """The history as a CSV, one row per epoch, written whole before it replaces the old one."""
    columns = {name: values for name, values in history.to_dict().items() if values}
    temporary = path.with_name(f".{path.name}.tmp")
    with temporary.open("w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(columns)
        writer.writerows(zip(*columns.values(), strict=False))
    os.replace(temporary, path)


class TrainingLog:
    """Writes every finished epoch of a run to ``out``: the CSV, and TensorBoard when asked.

    ``first_epoch`` is the epoch a resumed run continues from: TensorBoard drops whatever a
    crashed run wrote after it, so no epoch appears twice. A config asks for TensorBoard
    only where the package is installed (checking it says so otherwise).
    """

    def __init__(self, out: Path, *, tensorboard: bool = False, first_epoch: int = 0) -> None:
        self.out = out
        self.written = first_epoch
        self.writer: Any = None
        if tensorboard:
            from torch.utils.tensorboard import SummaryWriter

            self.writer = SummaryWriter(str(out / "tensorboard"), purge_step=first_epoch + 1)

    def update(self, history: History) -> None:
        """Log the epochs of ``history`` not written yet."""
        write_csv(self.out / "history.csv", history)
        if self.writer is None:
            return
        for index, epoch in enumerate(history.epoch):
            if epoch <= self.written:
                continue
            for curve, tag in SCALARS.items():
                values = getattr(history, curve)
                if index < len(values):
                    self.writer.add_scalar(tag, values[index], global_step=epoch)
        self.written = max(history.epoch, default=self.written)
        self.writer.flush()

    def close(self) -> None:
        """Flush and close TensorBoard's file."""
        if self.writer is not None:
            self.writer.close()
