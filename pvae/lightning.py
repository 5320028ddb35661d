"""Training through PyTorch Lightning: several GPUs or machines, the same model and config.

pvae's own loop (:func:`pvae.fit`) runs on one device. For more, it hands training to
Lightning, which runs distributed data parallel (DDP) underneath: every process holds a copy
of the pair, reads its own shard of the data, and the gradients are averaged after every
step. The pair does not change: Pyro turns its objective into a module
(``Trace_ELBO()(model, guide)``), and :class:`PairModule` wraps that module for Lightning.

Two facts keep the numbers right under DDP:

* each process draws minibatches from a different shard (a ``DistributedSampler``), and
* the ELBO of every minibatch stays scaled to the *whole* data set — the model's plate is
  told ``num_data = N``, not the shard's size — so the averaged gradient is an unbiased
  estimate of the full-data ELBO's gradient, with an effective batch of
  ``batch_size × processes``.

Install with ``pip install 'pvae-pyro[lightning]'``.
"""

from __future__ import annotations

import math
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, cast

import pyro
import torch
from pyro.infer import Trace_ELBO
from torch.utils.data import DataLoader, DistributedSampler, Sampler, TensorDataset

try:
    import lightning.pytorch as pl
    from lightning.pytorch.callbacks import ModelCheckpoint
    from lightning.pytorch.loggers import CSVLogger
except ImportError as error:  # pragma: no cover - exercised only without the extra
    raise ImportError("pvae.lightning needs PyTorch Lightning: pip install "
                      "'pvae-pyro[lightning]' (or pip install lightning)") from error

from .infer.result import FitResult
from .infer.state import rng_untouched
from .infer.svi import NonFiniteLossError, true_objective
from .infer.terms import elbo_terms

__all__ = ["LightningRun", "PairDataModule", "PairModule", "fit_with_lightning"]


class EpochPermutation(Sampler[int]):
    """A new ``torch.randperm`` order every epoch, drawn from the global generator.

    It is the order :func:`pvae.fit` uses, so that one process through Lightning and
    ``pvae.fit`` with the same seed see the same minibatches.
    """

    def __init__(self, size: int) -> None:
        self.size = size

    def __iter__(self) -> Iterator[int]:
        return iter(torch.randperm(self.size).tolist())

    def __len__(self) -> int:
        return self.size


class PairDataModule(pl.LightningDataModule):
    """A data set held in memory, sharded across processes, as ``(index, row)`` pairs.

    Parameters
    ----------
    train : Tensor
        The training rows.
    validation : Tensor, optional
        Held-out rows; every process scores all of them.
    batch_size : int, optional
        Rows per minibatch *per process*; ``None`` takes each process's whole shard.
    seed : int
        Seeds the distributed sampler's shuffling (the same on every process).
    """

    def __init__(self, train: torch.Tensor, validation: torch.Tensor | None = None,
                 batch_size: int | None = None, seed: int = 0) -> None:
        super().__init__()
        self.train, self.validation = train, validation
        self.batch_size, self.seed = batch_size, seed

    def _processes(self) -> tuple[int, int]:
        trainer = getattr(self, "trainer", None)
        if trainer is None:
            return 1, 0
        return trainer.world_size, trainer.global_rank

    def train_dataloader(self) -> DataLoader:
        """Minibatches of this process's shard, in a new order every epoch."""
        n = len(self.train)
        world, rank = self._processes()
        dataset = TensorDataset(torch.arange(n), self.train)
        batch = self.batch_size or math.ceil(n / world)
        sampler: Sampler[int] | None
        if world > 1:
            sampler = DistributedSampler(dataset, num_replicas=world, rank=rank, shuffle=True,
                                         seed=self.seed)
        else:
            sampler = EpochPermutation(n) if self.batch_size else None
        # Its own generator: the loader's worker seed must not use up the global stream.
        return DataLoader(dataset, batch_size=batch, sampler=sampler,
                          generator=torch.Generator())

    def val_dataloader(self) -> DataLoader:
        """The validation rows, in order (the same on every process)."""
        rows = self.validation if self.validation is not None else self.train[:0]
        return DataLoader(TensorDataset(rows), batch_size=self.batch_size or max(len(rows), 1),
                          generator=torch.Generator())


class PairModule(pl.LightningModule):
    """Any pvae model/guide pair and its objective as a ``LightningModule``.

    Parameters
    ----------
    pair : torch.nn.Module
        A pvae pair (``model`` and ``guide``; its ``objective()`` is used when it has one).
    num_data : int
        N, the size of the whole training set: every minibatch's ELBO is scaled to it.
    optimizer : callable
        Maps the parameters to a torch optimiser (with its learning rate).
    lr_decay : float
        As in :func:`pvae.fit`: the rate decays geometrically to ``lr * lr_decay`` over
        ``total_steps``.
    total_steps : int, optional
        Optimiser steps in the whole run (for the decay); ``None`` asks the trainer, which
        knows the number of processes.
    transform : callable, optional
        Applied to every minibatch (e.g. dynamic binarization).
    kl_warmup : int
        Steps over which the KL weight ramps from 0 to ``beta`` (pairs with a ``beta``).
    term_rows : Tensor, optional
        Rows on which the ELBO's reconstruction and KL terms are recorded every epoch.
    config : dict, optional
        The pvae config, stored in Lightning's checkpoints beside the history.
    """

    def __init__(self, pair: torch.nn.Module, *, num_data: int,
                 total_steps: int | None, optimizer: Callable[..., torch.optim.Optimizer],
                 lr_decay: float = 1.0,
                 transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
                 kl_warmup: int = 0, term_rows: torch.Tensor | None = None,
                 config: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.config = config
        self.pair = pair
        make_objective = getattr(pair, "objective", None)
        self.objective = make_objective() if callable(make_objective) else Trace_ELBO()
        self.num_data, self.lr_decay = num_data, lr_decay
        self.total_steps, self.make_optimizer = total_steps, optimizer
        self.transform, self.kl_warmup, self.term_rows = transform, kl_warmup, term_rows
        self.losses: list[float] = []
        self.seen: list[int] = []
        self.history: dict[str, list[float]] = {"epoch": [], "loss": [], "validation": [],
                                                "reconstruction": [], "kl": []}
        self._epoch_losses: list[float] = []
        self._validation: list[tuple[float, int]] = []
        self.resumed_epochs = 0

    def _weighted(self) -> bool:
        return getattr(self.pair, "kl_weight", None) is not None and hasattr(self.pair, "beta")

    def training_step(self, batch: list[torch.Tensor], batch_index: int) -> torch.Tensor:
        """The minibatch's negative ELBO, scaled to the whole data set."""
        indices, x = batch
        if self._weighted():
            ramp = min(1.0, (self.global_step + 1) / self.kl_warmup) if self.kl_warmup else 1.0
            pair: Any = self.pair
            pair.kl_weight = pair.beta * ramp
        x = self.transform(x) if self.transform else x
        # What Trace_ELBO()(model, guide) computes, without registering the pair twice.
        loss = self.objective.differentiable_loss(self.pair.model, self.pair.guide, x,
                                                  num_data=self.num_data)
        if not torch.isfinite(loss):
            raise NonFiniteLossError(f"the loss became non-finite at step {self.global_step} "
                                     f"(loss={float(loss)}); lower the learning rate")
        per_point = float(loss.detach()) / self.num_data
        self.losses.append(per_point)
        self._epoch_losses.append(per_point)
        self.seen.extend(indices.tolist())
        self.log("train_elbo", -per_point, on_step=False, on_epoch=True, sync_dist=True,
                 batch_size=len(x))
        return loss

    def validation_step(self, batch: list[torch.Tensor], batch_index: int) -> None:
        """The true objective (KL weight 1) on held-out rows, nats per datapoint."""
        (x,) = batch
        x = self.transform(x) if self.transform else x
        with true_objective(self.pair):
            total = float(self.objective.loss(self.pair.model, self.pair.guide, x))
        self._validation.append((total, len(x)))
        self.log("val_elbo", -total / len(x), on_step=False, on_epoch=True, sync_dist=True,
                 batch_size=len(x))

    def on_validation_epoch_end(self) -> None:
        """Record this epoch's validation objective."""
        if self._validation and not self.trainer.sanity_checking:
            total = sum(value for value, _ in self._validation)
            self.history["validation"].append(total / sum(n for _, n in self._validation))
        self._validation = []

    def on_train_epoch_end(self) -> None:
        """Record the epoch's mean loss and, on ``term_rows``, the ELBO's two terms."""
        self.history["epoch"].append(self.current_epoch + 1)
        self.history["loss"].append(sum(self._epoch_losses) / max(len(self._epoch_losses), 1))
        self._epoch_losses = []
        if self.term_rows is not None:
            rows = self.term_rows.to(self.device)
            with rng_untouched(rows):
                terms = elbo_terms(self.pair, rows)
            self.history["reconstruction"].append(terms.reconstruction)
            self.history["kl"].append(terms.kl)
        if self._weighted() and self.global_step >= (self.total_steps or 0):
            pair: Any = self.pair
            pair.kl_weight = pair.beta

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """Keep the per-epoch history (and the config) in Lightning's checkpoint."""
        checkpoint["pvae_history"] = self.history
        if self.config is not None:
            checkpoint["pvae_config"] = self.config

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """Continue the history a resumed run had recorded (from the same config only)."""
        saved = checkpoint.get("pvae_config")
        if saved is not None and self.config is not None and saved != self.config:
            changed = [table for table in self.config if saved.get(table) != self.config[table]]
            raise ValueError(f"this Lightning checkpoint was trained from a different config "
                             f"([{'], ['.join(changed)}] differ); resume with the config it "
                             "was trained from")
        self.history = checkpoint.get("pvae_history", self.history)
        self.resumed_epochs = len(self.history["epoch"])

    def configure_optimizers(self) -> Any:
        """The optimiser, with the learning rate decayed geometrically every step."""
        optimizer = self.make_optimizer(list(self.pair.parameters()))
        if self.total_steps is None:
            self.total_steps = int(self.trainer.estimated_stepping_batches)
        span = max(self.total_steps - 1, 1)
        decay = self.lr_decay
        schedule = torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda step: decay ** (min(step, span) / span))
        return {"optimizer": optimizer,
                "lr_scheduler": {"scheduler": schedule, "interval": "step"}}


class LightningRun:
    """What :func:`fit_with_lightning` did, on this process."""

    def __init__(self, result: FitResult, module: PairModule, trainer: pl.Trainer) -> None:
        self.result, self.module, self.trainer = result, module, trainer

    @property
    def is_global_zero(self) -> bool:
        """Whether this is the process that should write files."""
        return bool(self.trainer.is_global_zero)

    @property
    def history(self) -> dict[str, list[float]]:
        """Per-epoch curves, as ``pvae train`` records them."""
        return self.module.history


def fit_with_lightning(
    pair: torch.nn.Module, x: torch.Tensor, *, epochs: int | None = None,
    total_steps: int | None = None,
    batch_size: int | None, lr: float = 1e-3, lr_decay: float = 1.0,
    make_optimizer: Callable[..., torch.optim.Optimizer] | None = None,
    transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
    validation: torch.Tensor | None = None, kl_warmup: int = 0, seed: int | None = None,
    devices: int | str = 1, num_nodes: int = 1, strategy: str = "auto",
    precision: str | None = None, accelerator: str = "auto", progress: bool = True,
    checkpoint_dir: str | Path | None = None, resume_from: str | Path | None = None,
    term_rows: torch.Tensor | None = None, config: dict[str, Any] | None = None,
) -> LightningRun:
    """Train ``pair`` on ``x`` with a Lightning ``Trainer``; :func:`pvae.fit` calls this.

    Give ``epochs`` (passes over each process's shard) or ``total_steps`` (optimiser steps).
    ``make_optimizer`` maps parameters to an optimiser (default: Adam at ``lr``).

    ``x`` and ``validation`` are already checked and on the CPU; ``precision`` defaults to
    the data's (``"64-true"`` for float64, else ``"32-true"``). With ``checkpoint_dir``
    Lightning's ``ModelCheckpoint`` writes ``last.ckpt`` there after every epoch (and a CSV
    log of the per-epoch metrics); ``resume_from`` continues from such a file.
    """
    if (epochs is None) == (total_steps is None):
        raise ValueError("give fit_with_lightning either epochs or total_steps")
    if seed is not None:
        pyro.set_rng_seed(seed)
    n = len(x)
    pair.to(dtype=x.dtype)
    if make_optimizer is None:
        def make_optimizer(params: list[torch.Tensor]) -> torch.optim.Optimizer:
            return torch.optim.Adam(params, lr=lr)
    module = PairModule(pair, num_data=n, lr_decay=lr_decay, total_steps=total_steps,
                        optimizer=make_optimizer, transform=transform, kl_warmup=kl_warmup,
                        term_rows=term_rows, config=config)
    data = PairDataModule(x, validation, batch_size, seed or 0)
    callbacks: list[Any] = []
    if checkpoint_dir is not None:
        callbacks.append(ModelCheckpoint(dirpath=checkpoint_dir, save_last=True,
                                         save_top_k=0, every_n_epochs=1))
    trainer = pl.Trainer(
        accelerator=accelerator, devices=devices, num_nodes=num_nodes, strategy=strategy,
        precision=cast(Any, precision or ("64-true" if x.dtype == torch.float64
                                          else "32-true")),
        max_epochs=epochs if epochs is not None else -1,
        max_steps=total_steps if total_steps is not None else -1, callbacks=callbacks,
        logger=CSVLogger(checkpoint_dir, name="logs") if checkpoint_dir is not None else False,
        enable_checkpointing=checkpoint_dir is not None, num_sanity_val_steps=0,
        enable_progress_bar=progress and sys.stderr.isatty(), enable_model_summary=False,
        limit_val_batches=1.0 if validation is not None else 0, use_distributed_sampler=False,
        log_every_n_steps=1,  # metrics are logged per epoch; this only silences a warning
    )
    started = time.perf_counter()
    with warnings.catch_warnings():
        # In-memory tensors need no loader workers; Lightning's advice does not apply.
        warnings.filterwarnings("ignore", message=".*does not have many workers.*")
        trainer.fit(module, datamodule=data, ckpt_path=resume_from)
    result = FitResult(losses=module.losses, method="svi", num_data=n, converged=None,
                       seconds=time.perf_counter() - started,
                       device=str(next(pair.parameters()).device),
                       validation_losses=list(module.history["validation"]))
    return LightningRun(result, module, trainer)
