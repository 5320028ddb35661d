r"""Global discrete latents, summed out exactly: :math:`p(x) = \sum_c p(x, c)`.

AIS moves continuous latents only. A model's *global* discrete latents :math:`c` (outside
every plate, each with a finite support) are enumerated instead: each assignment's term

.. math:: p(x, c) = \int p(\theta, c)\, p(x \mid \theta, c)\, d\theta

is the evidence of the model with :math:`c` observed (annealed as usual, the factor
:math:`p(c \mid \theta)` annealed with the likelihood, or computed exactly when no continuous
latent is left), and the terms add up. Discrete latents inside a plate (one per datapoint)
are refused: their assignments grow exponentially with the data; sum them out in the model.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import torch
from pyro import poutine
from pyro.poutine.util import site_is_subsample

from .model_latents import EvidenceError, refuse_partial_data, traced_from_the_prior

__all__ = ["MAX_ASSIGNMENTS", "discrete_assignments", "log_joint"]

#: more joint assignments of the discrete latents than enumeration should take on
MAX_ASSIGNMENTS = 1024


def discrete_assignments(model: Any, x: torch.Tensor) -> tuple[list[dict[str, torch.Tensor]],
                                                                 bool]:
    """Every joint value of the model's global discrete latents, and whether others remain.

    The list is empty for a model without discrete latents. A model that scores only part
    of its data is refused (:func:`~.model_latents.refuse_partial_data`).
    """
    nodes = traced_from_the_prior(model, x)
    refuse_partial_data(nodes)
    supports: dict[str, list[torch.Tensor]] = {}
    continuous = False
    for name, site in nodes.items():
        if site["type"] != "sample" or site["is_observed"] or site_is_subsample(site):
            continue
        fn = site["fn"]
        if not (hasattr(fn, "support") and fn.support.is_discrete):
            continuous = True
            continue
        kind = type(fn).__name__
        plates = [frame.name for frame in site["cond_indep_stack"] if frame.vectorized]
        if plates or fn.batch_shape.numel() > 1:
            raise EvidenceError(f"the latent site {name!r} is discrete and local (in plate "
                                f"{plates[0] if plates else 'its batch'}; {kind}): its "
                                "assignments grow with the data; sum it out in the model")
        if not getattr(fn, "has_enumerate_support", False):
            raise EvidenceError(f"the latent site {name!r} is discrete with no finite support "
                                f"to enumerate ({kind}); give it a finite one or sum it out")
        supports[name] = list(fn.enumerate_support(expand=False).reshape(
            -1, *fn.event_shape))
    if not supports:
        return [], continuous
    count = math.prod(len(values) for values in supports.values())
    if count > MAX_ASSIGNMENTS:
        raise EvidenceError(f"the discrete latents {sorted(supports)} have {count} joint "
                            f"values, more than {MAX_ASSIGNMENTS} to enumerate; sum some of "
                            "them out in the model")
    return [dict(zip(supports, values, strict=True))
            for values in itertools.product(*supports.values())], continuous


def log_joint(model: Any, x: torch.Tensor) -> float:
    r""":math:`\log p(x, c)` of a model with nothing left to integrate: its trace's log-density."""
    with torch.no_grad():
        trace = poutine.trace(model).get_trace(x)
        trace.compute_log_prob()
    return float(sum(site["log_prob_sum"] for site in trace.nodes.values()
                     if site["type"] == "sample" and "log_prob_sum" in site))
