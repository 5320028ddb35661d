"""Is this :class:`~pvae.train.state.TrainingState` one this fit can continue? Checked first.

A resumed run must be the interrupted one: the same data and batch size (so the same steps per
epoch), counters that make sense, generators that can be restored, and an optimiser state of
the same kind and for parameters of the same shapes. Every mismatch is one ``ValueError``
naming what differs, raised before anything is loaded: an optimiser state of the wrong shape
loaded into a fused kernel does not fail cleanly, it crashes the interpreter.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch

from .result import History
from .state import TrainingState

__all__ = ["ResumeError", "check_optimizer_state", "check_resume"]

#: how the generators' states look (see :func:`pvae.train.state.capture_rng`)
RNG_KEYS = ("torch", "python", "numpy")


class ResumeError(ValueError):
    """A training state that cannot continue this fit, and what differs."""


def _count(value: Any, name: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ResumeError(f"the resume state's {name} must be a whole number >= 0; got "
                          f"{value!r}: pass a state that on_epoch_end received")
    return value


def _check_rng(rng: Any) -> None:
    if not isinstance(rng, dict) or any(key not in rng for key in RNG_KEYS):
        found = sorted(rng) if isinstance(rng, dict) else type(rng).__name__
        raise ResumeError(f"the resume state's rng must hold the generators {RNG_KEYS}; got "
                          f"{found}")
    torch_state = rng["torch"]
    expected = torch.get_rng_state()
    if not isinstance(torch_state, torch.Tensor) or torch_state.dtype != expected.dtype \
            or torch_state.shape != expected.shape:
        raise ResumeError("the resume state's torch generator state is not one torch saved "
                          f"(a uint8 tensor of {expected.numel()} bytes)")
    python, numpy = rng["python"], rng["numpy"]
    if not (isinstance(python, Sequence) and len(python) == 3
            and isinstance(python[1], Sequence) and len(python[1]) == 625):
        raise ResumeError("the resume state's Python generator state is not one Python saved")
    if not (isinstance(numpy, Sequence) and len(numpy) == 5
            and isinstance(numpy[1], torch.Tensor) and numpy[1].numel() == 624):
        raise ResumeError("the resume state's NumPy generator state is not one NumPy saved")


def check_resume(state: TrainingState, *, total: int, per_epoch: int, batch_size: int | None,
                 num_data: int) -> None:
    """Refuse ``state`` unless it is an epoch's end of a run with these settings."""
    step, epoch = _count(state.step, "step"), _count(state.epoch, "epoch")
    if step > total:
        raise ResumeError(f"the resume state is at step {step}, past this fit's {total} steps: "
                          "ask for at least as many steps (or epochs) as the run it continues")
    if step != epoch * per_epoch:
        made = f"{step / epoch:g}" if epoch else "no"
        raise ResumeError(
            f"the resume state made {made} steps per epoch ({step} in {epoch} epochs), this fit "
            f"makes {per_epoch} ({num_data} rows, batch_size={batch_size}): resume with the "
            "data and batch_size of the run it continues")
    for name, saved, given in (("batch_size", state.batch_size, batch_size),
                               ("number of rows", state.num_data, num_data)):
        if saved is not None and saved != given:
            raise ResumeError(f"the resume state's run had {name} {saved}, this fit has "
                              f"{given}: resume with the settings of the run it continues")
    losses = state.losses
    if not isinstance(losses, list) or len(losses) != step or not all(
            isinstance(loss, float | int) and math.isfinite(loss) for loss in losses):
        raise ResumeError(f"the resume state's losses must be {step} finite numbers, one per "
                          "step taken")
    if not isinstance(state.optimizer, dict) or (
            state.optimizer and not {"state", "param_groups"} <= set(state.optimizer)):
        raise ResumeError("the resume state's optimizer is not an optimiser's state_dict()")
    if step and not state.optimizer:
        raise ResumeError(f"the resume state is {step} steps in but holds no optimiser state: "
                          "pass a state that on_epoch_end received")
    if not isinstance(state.history, History):
        raise ResumeError(f"the resume state's history must be a History; got "
                          f"{type(state.history).__name__}")
    _check_rng(state.rng)


def check_optimizer_state(optimizer: torch.optim.Optimizer, saved: dict[str, Any]) -> None:
    """Refuse ``saved`` unless it is the state of an optimiser like ``optimizer``.

    Same kind (the settings each parameter group holds), same number of parameters, and every
    per-parameter tensor of the shape of its parameter.
    """
    groups, saved_groups = optimizer.param_groups, saved.get("param_groups", [])
    kind = type(optimizer).__name__
    own = {key for group in groups for key in group if key != "params"}
    theirs = {key for group in saved_groups for key in group if key != "params"}
    if own != theirs:
        raise ResumeError(f"the resume state comes from another optimiser than this fit's "
                          f"{kind} (the settings that differ: {sorted(own ^ theirs)}): resume "
                          "with the optimizer of the run it continues")
    params = [p for group in groups for p in group["params"]]
    saved_ids = [index for group in saved_groups for index in group.get("params", [])]
    if len(saved_ids) != len(params):
        raise ResumeError(f"the resume state's optimiser has {len(saved_ids)} parameters, this "
                          f"pair has {len(params)}: resume the same model")
    per_param = saved.get("state", {})
    for position, (index, param) in enumerate(zip(saved_ids, params, strict=True)):
        for name, value in per_param.get(index, {}).items():
            if isinstance(value, torch.Tensor) and value.dim() > 0 \
                    and value.shape != param.shape:
                raise ResumeError(
                    f"the resume state's optimiser {name!r} of parameter {position} has shape "
                    f"{tuple(value.shape)}, the parameter {tuple(param.shape)}: the state comes "
                    "from a model of another size; resume the same model")
