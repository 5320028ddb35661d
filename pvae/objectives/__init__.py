"""Training objectives by name: ``elbo``, ``meanfield``, ``iwae``; each a Pyro ``ELBO``.

The factories are named ``*_objective`` so that they do not read like the estimates
:func:`pvae.elbo` and :func:`pvae.iwae`, which score a fitted pair.
"""

from __future__ import annotations

from pyro.infer import (
    ELBO,
    JitTrace_ELBO,
    JitTraceMeanField_ELBO,
    Trace_ELBO,
    TraceMeanField_ELBO,
)

from ..registry import Registry
from ..validation import check_bool, check_positive_int
from .closed_calls import ClosedFormWarning, Gradient
from .enumeration import EnumeratedLogJoint, enumerated_log_joint
from .importance import ImportanceWeightedELBO
from .lean import EagerPathWarning, LeanTrace_ELBO

__all__ = ["ClosedFormWarning", "EagerPathWarning", "EnumeratedLogJoint", "Gradient",
           "ImportanceWeightedELBO", "LeanTrace_ELBO", "enumerated_log_joint", "is_compiled",
           "objectives"]

objectives = Registry("objective", ELBO)


JIT_NOTE = """
    With ``jit=True`` the loss and its gradient are compiled once (Pyro's ``JitTrace_*``):
    about a quarter faster per step for a VAE on the CPU, for a model whose structure never
    changes. :func:`pvae.fit` then uses equal-sized minibatches (it drops the last partial
    one) and refuses a KL warm-up, whose changing weight a compiled loss cannot see."""


def is_compiled(objective: ELBO) -> bool:
    """Whether ``objective`` compiles the model (static shapes and scales only)."""
    return isinstance(objective, JitTrace_ELBO | JitTraceMeanField_ELBO)


@objectives.register("elbo")
def elbo_objective(num_particles: int = 1, jit: bool = False, gradient: str = "plain",
                   compile: bool = False) -> ELBO:  # noqa: A002 (the option's name)
    r"""``Trace_ELBO``: :math:`\mathbb{E}_q[\log p(x, z) - \log q(z \mid x)]` by sampling.

    With one particle it is :class:`~pvae.objectives.lean.LeanTrace_ELBO`: the same estimator,
    with Pyro's traces recorded only for structures it has not seen, and for a
    :class:`pvae.VAE` of the usual parts written out in torch
    (:mod:`pvae.models.closed_form`). ``compile=True`` compiles that closed form with
    ``torch.compile`` (CUDA graphs on a GPU); a pair without one trains on the lean path and
    says why, as a :class:`~pvae.objectives.closed_calls.ClosedFormWarning`. Under a minibatch every
    log-density inside the data plate is scaled by :math:`N / B` (and a latent's by the KL
    weight :math:`\beta`): the loss is minus an unbiased estimate of the whole data set's
    (:math:`\beta`-)ELBO. ``gradient="stl"`` differentiates :math:`\log q` through its
    sample only (sticking the landing, Roeder et al., 2017): the same value, a gradient of
    lower variance near the posterior (:class:`~pvae.objectives.importance.ImportanceWeightedELBO`
    with ``bound="elbo"``).
    """
    num_particles = check_positive_int(num_particles, "num_particles")
    jit, compile = check_bool(jit, "jit"), check_bool(compile, "compile")
    if compile and (jit or num_particles != 1 or gradient != "plain"):
        raise ValueError("compile=True compiles the one-particle, plain-gradient ELBO; drop "
                         "jit, num_particles or gradient")
    if gradient not in ("plain", "stl"):
        raise ValueError(f"the elbo objective's gradient is 'plain' or 'stl'; got {gradient!r}")
    if gradient == "stl":
        if jit:
            raise ValueError("gradient='stl' is not compiled; drop jit=True")
        return ImportanceWeightedELBO(num_particles, bound="elbo", max_plate_nesting=1)
    options = {"num_particles": num_particles, "vectorize_particles": num_particles > 1,
               "max_plate_nesting": 1}
    if jit:
        return JitTrace_ELBO(ignore_jit_warnings=True, **options)
    if num_particles == 1:
        return LeanTrace_ELBO(max_plate_nesting=1, compiled=compile)
    return Trace_ELBO(**options)


@objectives.register("meanfield")
def meanfield_objective(jit: bool = False) -> ELBO:
    r"""``TraceMeanField_ELBO``: the KL term in closed form where it exists.

    :math:`\mathbb{E}_q[\log p(x \mid z)] - \mathrm{KL}(q(z \mid x) \,\|\, p(z))`, with a
    lower-variance gradient than the all-sampled ELBO; minibatch and KL weight scale it as
    they scale ``elbo``.
    """
    if check_bool(jit, "jit"):
        return JitTraceMeanField_ELBO(ignore_jit_warnings=True, max_plate_nesting=1)
    return TraceMeanField_ELBO(max_plate_nesting=1)


elbo_objective.__doc__ = (elbo_objective.__doc__ or "") + JIT_NOTE
meanfield_objective.__doc__ = (meanfield_objective.__doc__ or "") + JIT_NOTE


@objectives.register("iwae")
def iwae_objective(k: int = 5, gradient: str = "dreg") -> ELBO:
    r"""The importance-weighted bound of each datapoint (Burda et al., 2016), summed.

    :math:`\frac NB \sum_{i \in B} \log \frac1k \sum_{j=1}^k w_{ij}`, with
    :math:`\log w_{ij} = \log p(x_i \mid z_{ij}) + \beta[\log p(z_{ij}) - \log q(z_{ij} \mid
    x_i)]` from *unscaled* log-densities: the minibatch's :math:`N / B` is applied after the
    log-mean-exp, so divided by :math:`N` the loss estimates minus the mean per-datapoint
    IWAE-:math:`k` bound, tighter than the ELBO for :math:`k > 1` and equal to it at
    :math:`k = 1`. :math:`\beta` is the KL weight (1 but in a warm-up or a :math:`\beta`-VAE).
    ``gradient`` is ``"dreg"`` (doubly reparameterised, Tucker et al., 2019: the default) or
    ``"plain"``. See :class:`~pvae.objectives.importance.ImportanceWeightedELBO`.
    """
    return ImportanceWeightedELBO(k, bound="iwae", gradient=gradient, max_plate_nesting=1)
