"""Training objectives by name: ``elbo``, ``meanfield``, ``iwae``; each a Pyro ``ELBO``.

The factories are named ``*_objective`` so that they do not read like the estimates
:func:`pvae.elbo` and :func:`pvae.iwae`, which score a fitted pair.
"""

from __future__ import annotations

import warnings
from typing import Any

from pyro.infer import ELBO, Trace_ELBO, TraceMeanField_ELBO

from ..registry import Registry
from ..validation import check_bool, check_positive_int
from .default import CheckedTrace_ELBO, ClosedFormWarning, EagerPathWarning
from .importance import ImportanceWeightedELBO
from .vae_closed_form import closed_form

__all__ = ["CheckedTrace_ELBO", "ClosedFormWarning", "EagerPathWarning",
           "ImportanceWeightedELBO", "closed_form", "objectives"]

objectives = Registry("objective", ELBO)


def _retired_jit(jit: Any) -> None:
    if check_bool(jit, "jit"):
        warnings.warn("jit=True is retired and ignored (it will be refused in the next "
                      "release): the default ELBO is faster than Pyro's JitTrace_ELBO on "
                      "pvae's speed table; for a compiled step pass compile=True",
                      DeprecationWarning, stacklevel=3)


def __getattr__(name: str) -> Any:
    if name == "LeanTrace_ELBO":  # the old name, for one release
        warnings.warn("pvae.objectives.LeanTrace_ELBO is now CheckedTrace_ELBO",
                      DeprecationWarning, stacklevel=2)
        return CheckedTrace_ELBO
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@objectives.register("elbo")
def elbo_objective(num_particles: int = 1, jit: bool = False, gradient: str = "plain",
                   compile: bool = False) -> ELBO:  # noqa: A002 (the option's name)
    r"""``Trace_ELBO``: :math:`\mathbb{E}_q[\log p(x, z) - \log q(z \mid x)]` by sampling.

    With one particle it is :class:`~pvae.objectives.default.CheckedTrace_ELBO` (``compile``
    compiles a :class:`pvae.VAE`'s closed form; a pair without one says why, as a
    :class:`~pvae.objectives.default.ClosedFormWarning`). Under a minibatch every
    log-density inside the data plate is scaled by :math:`N / B` (and a latent's by the KL
    weight :math:`\beta`): the loss is minus an unbiased estimate of the whole data set's
    (:math:`\beta`-)ELBO. ``gradient="stl"`` differentiates :math:`\log q` through its
    sample only (sticking the landing, Roeder et al., 2017): the same value, a gradient of
    lower variance near the posterior. ``jit`` is retired (ignored, with a warning).
    """
    num_particles = check_positive_int(num_particles, "num_particles")
    _retired_jit(jit)
    compile = check_bool(compile, "compile")
    if compile and (num_particles != 1 or gradient != "plain"):
        raise ValueError("compile=True compiles the one-particle, plain-gradient ELBO; drop "
                         "num_particles or gradient")
    if gradient not in ("plain", "stl"):
        raise ValueError(f"the elbo objective's gradient is 'plain' or 'stl'; got {gradient!r}")
    if gradient == "stl":
        return ImportanceWeightedELBO(num_particles, bound="elbo", max_plate_nesting=1)
    if num_particles == 1:
        return CheckedTrace_ELBO(max_plate_nesting=1, compiled=compile)
    return Trace_ELBO(num_particles=num_particles, vectorize_particles=True,
                      max_plate_nesting=1)


@objectives.register("meanfield")
def meanfield_objective(jit: bool = False) -> ELBO:
    r"""``TraceMeanField_ELBO``: the KL term in closed form where it exists.

    :math:`\mathbb{E}_q[\log p(x \mid z)] - \mathrm{KL}(q(z \mid x) \,\|\, p(z))`, with a
    lower-variance gradient than the all-sampled ELBO; minibatch and KL weight scale it as
    they scale ``elbo``. ``jit`` is retired (ignored, with a warning).
    """
    _retired_jit(jit)
    return TraceMeanField_ELBO(max_plate_nesting=1)


@objectives.register("iwae")
def iwae_objective(k: int = 5, gradient: str = "dreg") -> ELBO:
    r"""The importance-weighted bound of each datapoint (Burda et al., 2016), summed.

    :math:`\frac NB \sum_{i \in B} \log \frac1k \sum_{j=1}^k w_{ij}`, the minibatch's
    :math:`N / B` applied after the log-mean-exp; ``gradient`` is ``"dreg"`` (the default)
    or ``"plain"``: :class:`~pvae.objectives.importance.ImportanceWeightedELBO`.
    """
    return ImportanceWeightedELBO(k, bound="iwae", gradient=gradient, max_plate_nesting=1)
