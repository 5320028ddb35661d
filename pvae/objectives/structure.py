r"""What the lean trace checks about a pair: its sites' structure, and its observations.

The lean trace (:mod:`pvae.objectives.traced`) reproduces ``Trace_ELBO`` exactly for one kind
of program only, read from the traces of an ordinary ``Trace_ELBO`` call with Pyro's checks on
(:func:`lean_problem`). Every later call is compared with such a call through its
**structure** (:func:`site_key`); scales and masks may change from call to call (a KL
warm-up): the lean trace scores them as ``Trace_ELBO`` does. It takes plates nested or
sequential, subsampled or not (the guide's subsample indices are replayed into the model),
any effect handler inside the program (scale, mask, block, condition, replay, reparam,
markov), ``pyro.factor`` and ``pyro.deterministic`` in the model, and arguments passed to a
sample site.
"""

from __future__ import annotations

from typing import Any

import torch
from pyro import poutine
from pyro.distributions.util import is_identically_zero
from pyro.poutine.util import site_is_subsample

__all__ = ["guide_problem", "lean_problem", "site_key", "trace_structure"]


def _kind(fn: Any) -> tuple[type, ...]:
    """The classes of a distribution and of the distributions it wraps, outermost first."""
    kinds = [type(fn)]
    while (fn := getattr(fn, "base_dist", None)) is not None:
        kinds.append(type(fn))
    return tuple(kinds)


def site_key(msg: Any) -> tuple[Any, ...]:
    """One sample site's structure: what must not change for the lean trace to stay exact."""
    fn, value = msg["fn"], msg["value"]
    return (msg["name"], msg["is_observed"], _kind(fn), fn.batch_shape, fn.event_shape,
            getattr(value, "shape", None), getattr(value, "dtype", None),
            getattr(value, "device", None),  # (a plate frame's own hash leaves out its full
            tuple(map(tuple, msg["cond_indep_stack"])),  # size, and costs microseconds)
            bool(msg["infer"].get("enumerate")), getattr(fn, "has_rsample", None))


def trace_structure(trace: Any) -> tuple[tuple[Any, ...], ...]:
    """The structure of a trace's sample sites, subsampling sites left out, in order."""
    return tuple(site_key(site) for site in trace.nodes.values()
                 if site["type"] == "sample" and not site_is_subsample(site))


def guide_problem(guide: Any) -> str | None:
    """Why no call of this guide can take the lean trace (a ``GuideMessenger``), or None."""
    if isinstance(poutine.unwrap(guide), poutine.messenger.Messenger):
        return (f"the guide {type(poutine.unwrap(guide)).__name__} is a GuideMessenger: it "
                "runs the model itself, and Trace_ELBO reads both traces from it")
    return None


def _fully_reparameterised(site: Any) -> bool:
    parts = site["score_parts"]
    if not is_identically_zero(parts.score_function):
        return False
    entropy, log_prob = parts.entropy_term, parts.log_prob
    return (isinstance(entropy, torch.Tensor) and isinstance(log_prob, torch.Tensor)
            and entropy.shape == log_prob.shape and bool((entropy == log_prob).all()))


def lean_problem(model_trace: Any, guide_trace: Any) -> str | None:
    """Why a call, seen through the traces ``Trace_ELBO`` scores, is not lean-exact, or None.

    Guide sites must be *fully* reparameterised: no score-function term, and an entropy term
    that is their log-density (not so for a rejection sampler or ``ShapeAugmentedGamma``).
    """
    guide_latents = set()
    for name, site in guide_trace.nodes.items():
        if site["type"] != "sample":
            continue
        if site["infer"].get("enumerate"):
            return f"the guide enumerates its site {name!r}"
        if site["is_observed"]:
            return (f"the guide observes its site {name!r}: Trace_ELBO scores it as part of q, "
                    "with a score-function term when it has no rsample")
        if not _fully_reparameterised(site):
            how = ("has no rsample" if not getattr(site["fn"], "has_rsample", False)
                   else "is only partly reparameterised")
            return (f"the guide's site {name!r} ({type(site['fn']).__name__}) {how}: its "
                    "gradient needs a score-function term")
        guide_latents.add(name)
    for name, site in model_trace.nodes.items():
        if site["type"] != "sample" or site["is_observed"]:
            continue
        if site["infer"].get("enumerate"):
            return f"the model enumerates its site {name!r}"
        if name not in guide_latents:
            return f"the model's latent site {name!r} is not sampled by the guide"
    return None
