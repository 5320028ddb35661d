"""Running a pair beside training without changing it: random stream and module state kept.

pvae runs a model and a guide for more than the training steps: to check that their sites
agree, to find the data plate, to find the parameters, and to let ``Trace_ELBO`` judge a
structure the first time it is seen. None of these runs may leave a trace on the run:

* the random stream is forked, so the steps draw the numbers they would draw anyway;
* the buffers of the modules are put back, so that a module that updates state as it runs
  (batch norm's running statistics and its count of batches) sees exactly the calls the
  steps make, one per step, as under ``Trace_ELBO`` alone.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pyro
import torch

__all__ = ["buffers_kept", "probing"]


@contextlib.contextmanager
def buffers_kept(*callables: Any) -> Iterator[None]:
    """Put back, after this block, the buffers of the modules among ``callables``.

    Each buffer is again the tensor it was, holding the values it held. Callables that are
    not modules (functions, a model wrapped by a handler) hold no buffers pvae can see, and
    are left as they are.
    """
    modules = {id(module): module for fn in callables if isinstance(fn, torch.nn.Module)
               for module in fn.modules()}
    kept = [(module, name, tensor, tensor.detach().clone()) for module in modules.values()
            for name, tensor in module._buffers.items() if tensor is not None]
    try:
        yield
    finally:
        with torch.no_grad():
            for module, name, tensor, values in kept:
                module._buffers[name] = tensor  # (a buffer replaced, not updated, comes back)
                tensor.copy_(values)


@contextlib.contextmanager
def probing(*callables: Any) -> Iterator[None]:
    """A run of ``callables`` that checks, not trains.

    No gradient, no argument validation, the CPU random stream forked, and the modules'
    buffers kept (:func:`buffers_kept`).
    """
    with torch.random.fork_rng(devices=[]), torch.no_grad(), pyro.validation_enabled(False), \
            buffers_kept(*callables):
        yield
