"""The pair protocol, checked before any work: what pvae calls, and what it needs back.

A pair is any object with ``model`` and ``guide`` callables that take the data as their one
positional argument (and, optionally, ``num_data``: see :mod:`pvae.pair.minibatch`). The
guide must sample every latent site the model samples (enumerated discrete sites aside), and
nothing the model does not.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import torch
from pyro import poutine
from pyro.infer.autoguide import AutoGuide
from pyro.poutine.util import site_is_subsample

from ..signatures import signature_of
from .probe import probing

__all__ = ["Pair", "PairError", "check_local_latents", "check_pair", "data_plates", "latent_sites",
           "params_outside", "per_datapoint_sites"]


class PairError(TypeError, ValueError):
    """An object pvae cannot use as a model/guide pair: it names what is missing or wrong.

    Both a ``TypeError`` (the wrong kind of object) and a ``ValueError`` (the right kind,
    with sites that do not agree), so either ``except`` catches it.
    """


class Pair(torch.nn.Module):
    """Any model and guide callables held as one pair, e.g. ``Pair(model, AutoNormal(model))``.

    A ``torch.nn.Module``, so that the parameters of module-valued parts (an autoguide, a
    ``PyroModule`` model, networks) move with ``.to(device)``, are saved by ``state_dict``
    and are trained by every engine. Plain functions are kept as they are; their
    ``pyro.param`` sites live in Pyro's parameter store (pvae's own engine trains them, the
    Lightning engine needs them inside a module).
    """

    def __init__(self, model: Callable[..., Any], guide: Callable[..., Any]) -> None:
        super().__init__()
        self.model, self.guide = model, guide
        check_pair(self)

    def extra_repr(self) -> str:  # noqa: D102
        return f"model={_name(self.model)}, guide={_name(self.guide)}"


def _name(fn: Any) -> str:
    return getattr(fn, "__qualname__", type(fn).__name__)


def _callable_with_data(pair: Any, hook: str) -> None:
    fn = getattr(pair, hook, None)
    if not callable(fn):
        found = "none" if fn is None else f"a {type(fn).__name__}"
        raise PairError(f"{type(pair).__name__} has no model/guide pair: pvae needs a "
                        f"callable .{hook}(x), and it has {found} (exact-only models are "
                        "scored with pvae.exact)")
    try:
        signature = signature_of(fn)
    except (TypeError, ValueError):
        return
    try:
        signature.bind(None)
    except TypeError:
        raise PairError(f"pvae calls {type(pair).__name__}.{hook}(x) with the data alone; its "
                        f"signature {signature} needs more (give the other arguments "
                        "defaults, or wrap it)") from None


def latent_sites(trace: Any) -> set[str]:
    """The names of a trace's latent sites (not observed, subsampling, enumerated or auxiliary)."""
    return {name for name, site in trace.nodes.items()
            if site["type"] == "sample" and not site["is_observed"]
            and not site_is_subsample(site) and not site["infer"].get("enumerate")
            and not site["infer"].get("is_auxiliary")}


def _built(fn: Any) -> bool:
    """A module (not an autoguide) that holds parameters already: it makes none on first use."""
    return (isinstance(fn, torch.nn.Module) and not isinstance(fn, AutoGuide)
            and any(True for _ in fn.parameters()))


def check_pair(pair: Any, x: torch.Tensor | None = None) -> None:
    """Raise a :class:`PairError` naming what the pair lacks, before any work.

    With data ``x``, the model and the guide run once on it (without touching the random
    stream or the values of existing parameters) to check that their sites agree.
    """
    for hook in ("model", "guide"):
        _callable_with_data(pair, hook)
    if x is None:
        return
    # A guide that makes its parameters on first use (an autoguide, a pyro.param per row)
    # must make them for the data it will be given, not for a few rows: such pairs run on
    # all of x. Modules that already hold their parameters run on two rows.
    rows = x[:2] if all(_built(fn) for fn in (pair.model, pair.guide)) else x
    with probing(pair.model, pair.guide):
        guide = poutine.trace(pair.guide).get_trace(rows)
        model = poutine.trace(poutine.replay(pair.model, trace=guide)).get_trace(rows)
    in_model, in_guide = latent_sites(model), latent_sites(guide)
    if in_model - in_guide:
        raise PairError(f"the model samples {sorted(in_model - in_guide)} but the guide does "
                         "not: every latent site needs a guide site of the same name")
    if in_guide - in_model:
        raise PairError(f"the guide samples {sorted(in_guide - in_model)}, which the model "
                         "does not: name the guide's sites after the model's")


def _plates(model: Callable[..., Any], rows: torch.Tensor) -> dict[str, int]:
    with probing(model):
        trace = poutine.trace(model).get_trace(rows)
    return {frame.name: frame.size for site in trace.nodes.values()
            if site["type"] == "sample" for frame in site["cond_indep_stack"]}


def data_plates(model: Callable[..., Any], x: torch.Tensor) -> frozenset[str]:
    """The names of the model's plates whose size is the number of rows it is given."""
    two, three = _plates(model, x[:2]), _plates(model, x[:3])
    return frozenset(name for name, size in two.items()
                     if size == 2 and three.get(name) == 3)


def _local_and_global(pair: Any, x: torch.Tensor, plates: frozenset[str]
                      ) -> tuple[list[str], list[str]]:
    with probing(pair.model):
        trace = poutine.trace(pair.model).get_trace(x[:2])
    local: list[str] = []
    shared: list[str] = []
    for name in sorted(latent_sites(trace)):
        inside = any(frame.name in plates for frame in trace.nodes[name]["cond_indep_stack"])
        (local if inside else shared).append(name)
    return local, shared


def per_datapoint_sites(pair: Any, x: torch.Tensor, plates: frozenset[str]) -> list[str]:
    """Local latent sites whose q an autoguide keeps per row (by position, not amortised)."""
    if not isinstance(pair.guide, AutoGuide):
        return []
    return _local_and_global(pair, x, plates)[0]


def check_local_latents(pair: Any, x: torch.Tensor) -> None:
    """Refuse what estimates per datapoint cannot score: global latents, per-row autoguides."""
    if x.shape[0] < 3:  # the data plate is told apart by its size: probe with 3 rows
        x = x[torch.zeros(3, dtype=torch.long, device=x.device)]
    plates = data_plates(pair.model, x)
    local, shared = _local_and_global(pair, x, plates)
    if shared:
        raise PairError(
            f"an estimate per datapoint (ELBO, IWAE, AIS, gaps, usage) needs every latent site "
            f"inside the data plate; this pair's latent site(s) {shared} are global (one "
            "value shared by all rows). Train it with pvae.fit, and bound its evidence with "
            "Pyro's Trace_ELBO over the whole data set")
    if local and isinstance(pair.guide, AutoGuide):
        raise PairError(
            f"{type(pair.guide).__name__} keeps one q per training row for {local}, tied to "
            "those rows by position, so it cannot score other rows or chunks of rows as "
            "pvae's estimators do. Use an amortised guide (an encoder), as pvae.VAE does")


def params_outside(pair: Any, x: torch.Tensor) -> list[str]:
    """The ``pyro.param`` sites the pair uses on ``x`` that are not parameters of its module."""
    with probing(pair.model, pair.guide), poutine.trace(param_only=True) as capture:
        guide = poutine.trace(pair.guide).get_trace(x)
        poutine.replay(pair.model, trace=guide)(x)
    held = {id(parameter) for parameter in pair.parameters()}
    return sorted(name for name, site in capture.trace.nodes.items()
                  if id(cast(Any, site["value"]).unconstrained()) not in held)
