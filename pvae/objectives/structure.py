r"""What the lean ELBO checks about a pair: its sites' structure, and its observations.

The lean path (:mod:`pvae.objectives.lean`) reproduces ``Trace_ELBO`` exactly for one kind
of program only. Whether a program is of that kind is read from the traces of an ordinary
``Trace_ELBO`` call, with Pyro's checks on (:func:`lean_problem`); every later call is
compared with such a call through its **structure** (:func:`site_key`): for every sample
site, in order, its name, whether it is observed, the kind of its distribution (the chain
of wrapper classes down to the base), its batch, event and value shapes, dtype and device,
its plates (name, dim, size, full size), whether it enumerates and whether it is
reparameterised. Scales and masks may change from call to call (a KL warm-up): the lean
path scores them as ``Trace_ELBO`` does.

What the lean path takes (everything else is eager, with the reason):

* a guide that is a callable, not a ``GuideMessenger`` (which runs the model itself);
* guide sites that are latent and *fully* reparameterised: their score parts carry no
  score-function term and their entropy term is their log-density (a site with no
  ``rsample``, a rejection sampler or ``ShapeAugmentedGamma`` has one);
* model latent sites that the guide samples; no site that enumerates;
* plates nested or sequential, subsampled or not (the guide's subsample indices are
  replayed into the model, as ``Trace_ELBO``'s replay does), any effect handler inside the
  program (scale, mask, block, condition, replay, reparam, markov), ``pyro.factor`` and
  ``pyro.deterministic`` in the model, arguments passed to a sample site.
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
    """One sample site's structure: what must not change for the lean path to stay exact."""
    fn, value = msg["fn"], msg["value"]
    return (msg["name"], msg["is_observed"], _kind(fn), fn.batch_shape, fn.event_shape,
            getattr(value, "shape", None), getattr(value, "dtype", None),
            getattr(value, "device", None),
            tuple(map(tuple, msg["cond_indep_stack"])),  # a frame's own hash leaves out its
            # full size, and costs microseconds
            bool(msg["infer"].get("enumerate")), getattr(fn, "has_rsample", None))


def trace_structure(trace: Any) -> tuple[tuple[Any, ...], ...]:
    """The structure of a trace's sample sites, subsampling sites left out, in order."""
    return tuple(site_key(site) for site in trace.nodes.values()
                 if site["type"] == "sample" and not site_is_subsample(site))


def guide_problem(guide: Any) -> str | None:
    """Why no call of this guide can take the lean path, or None."""
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
    """Why a call (seen through ``Trace_ELBO``'s traces of it) is not lean-exact, or None.

    The traces are those ``Trace_ELBO`` scores: subsampling sites pruned, the guide's score
    parts computed.
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
