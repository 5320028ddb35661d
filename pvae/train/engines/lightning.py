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

Use it as ``pvae.fit(pair, x, engine="lightning")`` or with its settings,
``engine={"name": "lightning", "devices": 4, "strategy": "ddp"}``; every step runs
through the same :class:`~pvae.train.step.StepRules` as pvae's own loop (warm-up,
learning-rate decay, the finite-loss guard, the history). Install with
``pip install 'pvae-pyro[lightning]'``.
"""

from __future__ import annotations

import math
import sys
import time
import warnings
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any, cast

import torch
from torch.utils.data import DataLoader, DistributedSampler, Sampler, TensorDataset

try:
    import lightning.pytorch as pl
    from lightning.pytorch.callbacks import ModelCheckpoint
    from lightning.pytorch.loggers import CSVLogger
    from lightning.pytorch.strategies import StrategyRegistry
except ImportError as error:  # pragma: no cover - exercised only without the extra
    raise ImportError("the Lightning engine needs PyTorch Lightning: pip install "
                      "'pvae-pyro[lightning]' (or pip install lightning)") from error

from ...pair import PairError, params_outside
from ...progress import LineProgress
from ..divergence import all_finite
from ..plan import FitPlan
from ..result import FitResult, History
from .local import Engine

__all__ = ["LightningEngine", "PairDataModule", "PairModule"]


#: the ``precision`` values Lightning's ``Trainer`` takes (a test keeps this list in step)
PRECISIONS = ("32-true", "64-true", "16-mixed", "bf16-mixed", "16-true", "bf16-true",
              "transformer-engine", "transformer-engine-float16")


#: more devices per machine (or machines) than any run has: a typo, refused
MAX_DEVICES = 1024


def _positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _check_settings(devices: Any, num_nodes: Any, strategy: Any, precision: Any) -> None:
    """Refuse a ``Trainer`` setting Lightning would refuse, in pvae's words, before it runs."""
    if not (_positive_int(devices) and devices <= MAX_DEVICES or devices == "auto"):
        raise ValueError(f"lightning devices must be a number of devices from 1 to "
                         f"{MAX_DEVICES} (per machine) or 'auto'; got {devices!r}")
    if not (_positive_int(num_nodes) and num_nodes <= MAX_DEVICES):
        raise ValueError(f"lightning num_nodes must be a number of machines from 1 to "
                         f"{MAX_DEVICES}; got {num_nodes!r}")
    strategies = ["auto", *StrategyRegistry.available_strategies()]
    if strategy not in strategies:
        raise ValueError(f"unknown lightning strategy {strategy!r}; use 'auto', 'ddp' or one of "
                         f"Lightning's: {', '.join(strategies[1:])}")
    if precision is not None and precision not in PRECISIONS:
        raise ValueError(f"unknown lightning precision {precision!r}; use one of "
                         f"{', '.join(PRECISIONS)} (or leave it out: 32-true)")


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


def _check_module(pair: Any, x: torch.Tensor) -> None:
    """Lightning optimises a module's parameters: refuse a pair whose parameters live elsewhere."""
    if not isinstance(pair, torch.nn.Module):
        raise PairError(f"the Lightning engine trains a torch.nn.Module's parameters, and "
                        f"{type(pair).__name__} is not one: wrap its callables as "
                        "pvae.Pair(model, guide), or use engine='pvae'")
    outside = params_outside(pair, x)
    if outside:
        raise PairError(f"the Lightning engine trains the pair's module parameters, but the "
                        f"pyro.param sites {outside} live only in Pyro's parameter store: "
                        "hold them in a module (an autoguide, a PyroModule), or use "
                        "engine='pvae' (pyro.module sites left by an earlier model are "
                        "cleared by pyro.clear_param_store())")


class PairDataModule(pl.LightningDataModule):
    """A data set held in memory, sharded across processes, as ``(index, row)`` pairs.

    Parameters
    ----------
    train : Tensor
        The training rows.
    batch_size : int, optional
        Rows per minibatch *per process*; ``None`` takes each process's whole shard.
    seed : int
        Seeds the distributed sampler's shuffling (the same on every process).
    """

    def __init__(self, train: torch.Tensor, batch_size: int | None = None,
                 seed: int = 0) -> None:
        super().__init__()
        self.train, self.batch_size, self.seed = train, batch_size, seed

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


class PairModule(pl.LightningModule):
    """Any model/guide pair, trained as a :class:`~pvae.train.plan.FitPlan` says.

    Every step and epoch end goes through the plan's step core; the loss of a minibatch is
    ``objective.differentiable_loss(model, guide, x, num_data=N)``, what
    ``Trace_ELBO()(model, guide)`` computes, scaled to the whole data set.

    Parameters
    ----------
    pair : torch.nn.Module
        The pair (``model`` and ``guide``).
    plan : FitPlan
        What :func:`pvae.fit` checked: data, schedule, objective, optimiser.
    config : dict, optional
        The pvae config, stored in Lightning's checkpoints beside the history.
    """

    def __init__(self, pair: torch.nn.Module, plan: FitPlan,
                 config: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.pair, self.plan, self.config = pair, plan, config
        self.core = plan.core(pair)
        self.num_data = len(plan.x)
        self.losses: list[float] = []
        self.seen: list[int] = []
        self._epoch_losses: list[float] = []
        self.resumed_epochs = 0
        #: off a terminal, one line per epoch on standard error (Lightning's bar is a
        #: terminal's); ``None`` on a terminal, with progress off, and on ranks but the first
        self.lines: LineProgress | None = None

    def training_step(self, batch: list[torch.Tensor], batch_index: int) -> torch.Tensor:
        """The minibatch's negative ELBO, scaled to the whole data set."""
        indices, x = batch
        self.core.begin_step(self.global_step)  # the rate itself comes from the scheduler
        x = self.plan.options.transform(x) if self.plan.options.transform else x
        try:
            model, guide, kwargs = self.plan.minibatches.callables(self.pair, len(x))
            loss = self.core.objective.differentiable_loss(model, guide, x, **kwargs)
        except ValueError as error:  # a distribution check: are the parameters finite?
            parameters, optimizer = self._state()
            if all_finite(parameters):
                raise
            self.core.diverged(f"a parameter became NaN or infinite ({error})",
                               self.global_step, parameters, optimizer)
        per_point = float(loss.detach()) / self.num_data
        self.core.check(per_point, self.global_step, *self._state())
        self.losses.append(per_point)
        self._epoch_losses.append(per_point)
        self.seen.extend(indices.tolist())
        self.log("train_elbo", -per_point, on_step=False, on_epoch=True, sync_dist=True,
                 batch_size=len(x))
        return loss

    def _state(self) -> tuple[list[torch.Tensor], torch.optim.Optimizer]:
        optimizer: Any = self.optimizers()
        return list(self.pair.parameters()), optimizer.optimizer

    def on_before_optimizer_step(self, optimizer: torch.optim.Optimizer) -> None:
        """The divergence check of the gradients, before the update is applied."""
        parameters, raw = self._state()
        grads = [p.grad for p in parameters if p.grad is not None]
        self.core.check(self.losses[-1], self.global_step, parameters, raw, grads)

    def on_train_start(self) -> None:
        """A resumed run's lines count on from the epoch it resumed after."""
        if self.lines is not None:
            self.lines.n = self.current_epoch * self.plan.per_epoch

    def on_train_epoch_end(self) -> None:
        """Record the epoch in the core's history (validation objective, ELBO terms)."""
        on = self.device
        validation, terms_on = (None if rows is None else rows.to(on)
                                for rows in (self.plan.validation, self.plan.terms_on))
        self.core.end_epoch(self.current_epoch + 1, self._epoch_losses, validation=validation,
                            batch_size=self.plan.options.batch_size,
                            transform=self.plan.options.transform,
                            terms_on=terms_on)
        mean = sum(self._epoch_losses) / max(len(self._epoch_losses), 1)
        self._epoch_losses = []
        if validation is not None:
            self.log("val_elbo", -self.core.history.validation[-1], sync_dist=True)
        if self.lines is not None and self.global_rank == 0:
            self.lines.set_postfix(elbo=f"{-mean:.4f} nats/pt")
            self.lines.update(self.plan.per_epoch)

    def on_train_end(self) -> None:
        """Leave the pair at its own ``beta``."""
        self.core.restore()

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """Keep the per-epoch history (and the config) in Lightning's checkpoint."""
        checkpoint["pvae_history"] = self.core.history.to_dict()
        if self.config is not None:
            checkpoint["pvae_config"] = self.config

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """Continue the history a resumed run had recorded."""
        self.core.history = History.from_dict(checkpoint.get("pvae_history", {}))
        self.resumed_epochs = len(self.core.history.epoch)

    def configure_optimizers(self) -> Any:
        """The plan's optimiser, its learning rate following the core's schedule each step."""
        optimizer = self.plan.make_optimizer(list(self.pair.parameters()))
        if self.plan.options.epochs is not None:  # steps per epoch depend on the processes
            total = int(self.trainer.estimated_stepping_batches)
            self.core.schedule = replace(self.core.schedule, total=total)
        schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, self.core.schedule.decay)
        return {"optimizer": optimizer,
                "lr_scheduler": {"scheduler": schedule, "interval": "step"}}


class LightningEngine(Engine):
    """Runs SVI through a Lightning ``Trainer``: several devices, machines, precisions.

    Parameters
    ----------
    devices : int or str
        Devices per machine (``"auto"``: all).
    num_nodes : int
        Machines.
    strategy : str
        Lightning's strategy, e.g. ``"ddp"``.
    precision : str, optional
        E.g. ``"bf16-mixed"``; default: the data's dtype (``"64-true"`` for float64).

    Attributes
    ----------
    trainer : lightning.pytorch.Trainer or None
        After a run, the ``Trainer`` Lightning used on this process
        (``trainer.is_global_zero`` says whether it is the one that should write).
    module : PairModule or None
        After a run, the module that wrapped the pair on this process.
    """

    name = "lightning"

    def __init__(self, devices: int | str = 1, num_nodes: int = 1, strategy: str = "auto",
                 precision: str | None = None) -> None:
        _check_settings(devices, num_nodes, strategy, precision)
        self.devices, self.num_nodes = devices, num_nodes
        self.strategy, self.precision = strategy, precision
        self.checkpoint_dir: Path | None = None
        self.resume_from: Path | None = None
        self.config: dict[str, Any] | None = None
        self.trainer: pl.Trainer | None = None
        self.module: PairModule | None = None

    def checkpoint_to(self, folder: str | Path, *, resume: bool = False,
                      config: dict[str, Any] | None = None) -> LightningEngine:
        """Write ``folder/last.ckpt`` (and a CSV log) every epoch; ``resume`` continues it."""
        self.checkpoint_dir = Path(folder)
        self.resume_from = self.checkpoint_dir / "last.ckpt" if resume else None
        self.config = config
        return self

    def refuses(self, plan: FitPlan) -> list[str]:  # noqa: D102
        options = plan.options
        asked = {"method='em'": options.method != "svi", "n_init > 1": options.n_init > 1,
                 "resume": options.resume is not None,
                 "on_epoch_end": options.on_epoch_end is not None,
                 "time_limit": options.time_limit is not None,
                 "patience": options.patience is not None}
        return [name for name, used in asked.items() if used]

    def _accelerator(self, plan: FitPlan) -> str:
        request = plan.options.device
        if isinstance(request, str) and request == "auto":
            return "auto"
        return {"cpu": "cpu", "cuda": "gpu"}[plan.device.type]

    def run(self, pair: Any, plan: FitPlan) -> FitResult:  # noqa: D102
        started = time.perf_counter()  # the whole fit's wall time, as pvae's own loop counts it
        plan.start(pair)
        _check_module(pair, plan.x)
        x = plan.x.cpu()
        module = PairModule(pair, plan, self.config)
        # the same order on every process
        data = PairDataModule(x, plan.options.batch_size, plan.options.seed or 0)
        folder = self.checkpoint_dir
        callbacks: list[Any] = []
        if folder is not None:
            callbacks.append(ModelCheckpoint(dirpath=folder, save_last=True, save_top_k=0,
                                             every_n_epochs=1))
        precision = self.precision or ("64-true" if x.dtype == torch.float64 else "32-true")
        trainer = pl.Trainer(
            accelerator=self._accelerator(plan), devices=self.devices,
            num_nodes=self.num_nodes, strategy=self.strategy, precision=cast(Any, precision),
            max_epochs=plan.options.epochs if plan.options.epochs is not None else -1,
            max_steps=plan.schedule.total if plan.options.epochs is None else -1,
            callbacks=callbacks, logger=CSVLogger(folder, name="logs") if folder else False,
            enable_checkpointing=folder is not None, num_sanity_val_steps=0,
            enable_progress_bar=plan.options.progress and sys.stderr.isatty(),
            enable_model_summary=False, limit_val_batches=0, use_distributed_sampler=False,
            log_every_n_steps=1,  # metrics are logged per epoch; this only silences a warning
        )
        if plan.options.progress and not sys.stderr.isatty():
            module.lines = LineProgress(plan.schedule.total, "lightning fit",
                                        every=plan.per_epoch)
        self.trainer, self.module = trainer, module
        with warnings.catch_warnings():
            # In-memory tensors need no loader workers; Lightning's advice does not apply.
            warnings.filterwarnings("ignore", message=".*does not have many workers.*")
            trainer.fit(module, datamodule=data, ckpt_path=self.resume_from)
        return FitResult(losses=module.losses, method="svi", num_data=len(x), converged=None,
                         seconds=time.perf_counter() - started,
                         device=str(next(pair.parameters()).device),
                         history=module.core.history)
