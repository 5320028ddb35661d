"""Seeds that reach every draw: ``seeded(seed)`` runs a block from a seed of its own.

Every estimate of :mod:`pvae.estimate` takes ``seed=``: the same call with the same seed
gives the same numbers to the bit, and leaves the caller's random state as it found it, so
a seeded estimate in the middle of a script does not change what the script draws after it.
Without a seed (``None``) the block draws from the global generators, as any Pyro code does.

Pyro draws from torch's generators (and, in a few places, Python's ``random`` and numpy's
global one), so all of them are set from the seed and all of them are put back.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch

from .validation import check_seed

__all__ = ["seeded"]

@contextlib.contextmanager
def seeded(seed: Any) -> Iterator[int | None]:
    """Run the block from ``seed``, then restore every global generator; ``None``: no change.

    The seed is checked first (an integer in ``[0, 2**32)``), so a bad one costs no work.
    CUDA's generators are saved and restored only when CUDA is already in use.
    """
    seed = check_seed(seed)
    if seed is None:
        yield None
        return
    # numpy's legacy global generator is the one Pyro and old user code draw from
    python_state, numpy_state = random.getstate(), np.random.get_state()  # noqa: NPY002
    torch_state = torch.random.get_rng_state()
    cuda_states = torch.cuda.get_rng_state_all() if torch.cuda.is_initialized() else None
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002
    torch.manual_seed(seed)  # every device's generator
    try:
        yield seed
    finally:
        random.setstate(python_state)
        np.random.set_state(numpy_state)  # noqa: NPY002
        torch.random.set_rng_state(torch_state)
        if cuda_states is not None:
            torch.cuda.set_rng_state_all(cuda_states)
