"""The pair protocol, checked before any work: what pvae calls, and what it needs back.

A pair is any object with ``model`` and ``guide`` callables that take the data as their one
positional argument (and, optionally, ``num_data``: see :mod:`pvae.infer.minibatch`). The
guide must sample every latent site the model samples (enumerated discrete sites aside), and
nothing the model does not.
"""

from __future__ import annotations

import inspect
from typing import Any

import pyro
import torch
from pyro import poutine
from pyro.poutine.util import site_is_subsample

__all__ = ["PairError", "check_pair"]


class PairError(TypeError, ValueError):
    """An object pvae cannot use as a model/guide pair: it names what is missing or wrong.

    Both a ``TypeError`` (the wrong kind of object) and a ``ValueError`` (the right kind,
    with sites that do not agree), so either ``except`` catches it.
    """


def _callable_with_data(pair: Any, hook: str) -> None:
    fn = getattr(pair, hook, None)
    if not callable(fn):
        found = "none" if fn is None else f"a {type(fn).__name__}"
        raise PairError(f"{type(pair).__name__} has no model/guide pair: pvae needs a "
                        f"callable .{hook}(x), and it has {found} (exact-only models are "
                        "scored with pvae.exact)")
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):
        return
    try:
        signature.bind(None)
    except TypeError:
        raise PairError(f"pvae calls {type(pair).__name__}.{hook}(x) with the data alone; its "
                        f"signature {signature} needs more (give the other arguments "
                        "defaults, or wrap it)") from None


def _latent_sites(trace: Any) -> set[str]:
    return {name for name, site in trace.nodes.items()
            if site["type"] == "sample" and not site["is_observed"]
            and not site_is_subsample(site) and not site["infer"].get("enumerate")
            and not site["infer"].get("is_auxiliary")}


def check_pair(pair: Any, x: torch.Tensor | None = None) -> None:
    """Raise a :class:`PairError` naming what the pair lacks, before any work.

    With data ``x``, the model and the guide run once on its first rows (without touching
    the random stream or the parameters' values) to check that their sites agree.
    """
    for hook in ("model", "guide"):
        _callable_with_data(pair, hook)
    if x is None:
        return
    rows = x[:2]
    with torch.random.fork_rng(devices=[]), torch.no_grad(), pyro.validation_enabled(False):
        guide = poutine.trace(pair.guide).get_trace(rows)
        model = poutine.trace(poutine.replay(pair.model, trace=guide)).get_trace(rows)
    in_model, in_guide = _latent_sites(model), _latent_sites(guide)
    if in_model - in_guide:
        raise PairError(f"the model samples {sorted(in_model - in_guide)} but the guide does "
                         "not: every latent site needs a guide site of the same name")
    if in_guide - in_model:
        raise PairError(f"the guide samples {sorted(in_guide - in_model)}, which the model "
                         "does not: name the guide's sites after the model's")
