"""Signatures worked out once: what every fit asks of a pair's callables, cached."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

__all__ = ["signature_of"]


@functools.lru_cache(maxsize=256)
def _signature(fn: Callable[..., Any]) -> inspect.Signature:
    return inspect.signature(fn)


def signature_of(fn: Callable[..., Any]) -> inspect.Signature:
    """``inspect.signature(fn)``, worked out once per function rather than on every fit.

    A bound method's signature is its function's without ``self``, so every instance of a
    class shares one entry. Raises what ``inspect.signature`` raises.
    """
    function, owner = getattr(fn, "__func__", None), getattr(fn, "__self__", None)
    if function is not None and owner is not None and not inspect.isclass(owner):
        parameters = list(_signature(function).parameters.values())[1:]
        return _signature(function).replace(parameters=parameters)
    try:
        return _signature(fn)
    except TypeError as error:  # unhashable callables are rare: look them up each time
        if "unhashable" not in str(error):
            raise
        return inspect.signature(fn)
