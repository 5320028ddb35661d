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
from collections.abc import Callable, Iterator
from typing import Any

import pyro
import torch

from .._compat import module_registries

__all__ = ["buffer_snapshot", "buffers_kept", "probing"]


def buffer_snapshot(*callables: Any) -> Callable[[], None]:
    """Take the buffers of the modules among ``callables``; the returned function puts them back.

    Each buffer is then again the tensor it was (where torch keeps it, so a buffer replaced
    by a run comes back), holding the values it held. Callables that are not modules
    (functions, a model wrapped by a handler) hold no buffers pvae can see.
    """
    modules = {id(module): module for fn in callables if isinstance(fn, torch.nn.Module)
               for module in fn.modules()}
    kept = [(buffers, name, tensor, tensor.detach().clone()) for module in modules.values()
            for buffers in (module_registries(module)[1],)
            for name, tensor in buffers.items() if tensor is not None]

    def put_back() -> None:
        with torch.no_grad():
            for buffers, name, tensor, values in kept:
                buffers[name] = tensor
                tensor.copy_(values)

    return put_back


@contextlib.contextmanager
def buffers_kept(*callables: Any) -> Iterator[None]:
    """Put back, after this block, the buffers of the modules among ``callables``."""
    put_back = buffer_snapshot(*callables)
    try:
        yield
    finally:
        put_back()


@contextlib.contextmanager
def probing(*callables: Any) -> Iterator[None]:
    """A run of ``callables`` that checks, not trains.

    No gradient, no argument validation, the CPU random stream forked, and the modules'
    buffers kept (:func:`buffers_kept`).
    """
    with torch.random.fork_rng(devices=[]), torch.no_grad(), pyro.validation_enabled(False), \
            buffers_kept(*callables):
        yield
