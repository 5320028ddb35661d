r"""The BDMC sandwich of a model's evidence, on data simulated from the model.

:math:`\theta^\ast \sim p(\theta)` and :math:`x \sim p(x \mid \theta^\ast)` make
:math:`\theta^\ast` an exact draw of the posterior :math:`p(\theta \mid x)`. AIS run forward
from the prior gives a stochastic lower bound of :math:`\log p(x)`; run backwards from
:math:`\theta^\ast`, :math:`\beta` from 1 to 0, it estimates :math:`1 / p(x)` without bias,
a stochastic upper bound (Grosse et al., 2015). The width between the two bounds the error
of either, so it is the settings' own convergence check: where the sandwich is narrow on
simulated data, the same settings anneal well on real data like it.
"""

from __future__ import annotations

import math
import warnings
from typing import Any, NamedTuple

import pyro
import torch
from pyro import poutine

from ..anneal import TOLERANCE, EvidenceWarning
from ..randomness import seeded
from ..results import summarised
from .ais import (
    Evidence,
    annealed,
    checked_settings,
    evidence_schedule,
    program_and_data,
)
from .chains import said_once
from .model_latents import EvidenceError, ModelLatents, refuse_partial_data, traced_from_the_prior

__all__ = ["EvidenceSandwich", "evidence_bdmc"]


@summarised("width", "width_stderr")
class EvidenceSandwich(NamedTuple):
    """The BDMC sandwich of a model's log evidence on data simulated from it.

    ``lower`` is forward AIS (a stochastic lower bound), ``upper`` reverse AIS from the
    simulated latents, an exact posterior draw (a stochastic upper bound); the true log
    evidence of ``x`` lies between them, and ``width`` bounds the error of either.
    """

    x: torch.Tensor
    latents: dict[str, torch.Tensor]
    lower: Evidence
    upper: Evidence

    @property
    def width(self) -> float:
        """``upper - lower``, in nats for the whole data set."""
        return self.upper.value - self.lower.value

    @property
    def width_stderr(self) -> float:
        """The standard error of :attr:`width` (two independent runs)."""
        return math.hypot(self.lower.stderr, self.upper.stderr)

    @property
    def converged(self) -> bool:
        r"""Whether the width is within 0.1 nats of zero, allowing two standard errors.

        A width below zero beyond that (the lower bound above the upper) is not convergence
        but a fault: bounds that cross by more than noise. An infinite standard error (one
        chain) gives no verdict, so it is not called converged. The upper bound's standard
        error is over its chains, which all start from the one simulated draw
        :math:`\theta^\ast`: it leaves out how the bound varies with that draw.
        """
        return math.isfinite(self.width_stderr) and (
            abs(self.width) <= TOLERANCE + 2 * self.width_stderr)

    def __str__(self) -> str:
        return (f"BDMC sandwich: {self.lower.value:.4f} ± {self.lower.stderr:.4f} <= log p(x) "
                f"<= {self.upper.value:.4f} ± {self.upper.stderr:.4f} nats (width "
                f"{self.width:.4f} ± {self.width_stderr:.4f}; "
                f"{'converged' if self.converged else 'NOT converged'})")


def evidence_bdmc(model: Any, like: torch.Tensor, *, steps: int = 1000, chains: int = 512,
                  leapfrog: int = 10, target_acceptance: float = 0.65, seed: int | None = 0,
                  progress: bool = True) -> EvidenceSandwich:
    r"""Sandwich the log evidence of data simulated from ``model`` (Grosse et al., 2015).

    :math:`\theta^\ast \sim p(\theta)` and :math:`x \sim p(x \mid \theta^\ast)` are drawn by
    running the model without its observations, on data shaped like ``like`` (which fixes
    the number of datapoints; integer data are simulated in floating point). The model must
    observe its data unchanged at one site (``obs=x``), without subsampling. The settings
    are :func:`~pvae.bayes.evidence`'s; ``seed`` fixes the simulation and every
    chain (``None``: the global generators).

    Warns
    -----
    EvidenceWarning
        When the sandwich is wider than 0.1 nats beyond two standard errors (more steps
        would narrow it), or its bounds cross by more than noise allows.
    """
    model, like = program_and_data("evidence_bdmc", model, like, "like",
                                   "shaped as the data to simulate")
    if not like.is_floating_point():  # it fixes a shape: integer priors cannot be sampled
        like = like.to(torch.get_default_dtype())
    target = checked_settings(steps, chains, leapfrog, target_acceptance, progress, seed)
    with seeded(seed), said_once():
        sandwich = _sandwich(model, like, steps, chains, leapfrog, target, progress)
    if not sandwich.converged:
        crossed = sandwich.width < 0
        warnings.warn(
            f"evidence_bdmc: {sandwich}: "
            + ("the lower bound lies above the upper by more than noise allows: the runs are "
               "far from converged; raise steps" if crossed else
               f"the bounds are still {sandwich.width:.3f} nats apart; raise steps")
            + f" (now {steps})", EvidenceWarning, stacklevel=2)
    return sandwich


def _sandwich(model: Any, like: torch.Tensor, steps: int, chains: int, leapfrog: int,
              target: float, progress: bool) -> EvidenceSandwich:
    x, truth_nodes = _simulated(model, like)
    with pyro.validation_enabled(False):
        latents = ModelLatents(model, x, chains)
        truth = {name: truth_nodes[name]["value"].detach() for name in latents.names}
        exact = torch.cat([latents.transforms[name].inv(truth[name]).reshape(1, -1)
                           for name in latents.names], -1)
        betas = evidence_schedule(steps, x)
        lower = annealed(latents, latents.draw(chains), betas, leapfrog, target, progress,
                         f"ais-{steps}")
        upper = annealed(latents, exact.expand(chains, -1).unsqueeze(1).clone(),
                         betas.flip(0), leapfrog, target, progress, f"reverse-ais-{steps}")
    return EvidenceSandwich(x, truth, lower, upper)


def _simulated(model: Any, like: torch.Tensor) -> tuple[torch.Tensor, dict[str, Any]]:
    """Data simulated at the model's one observed site, and the run's sites.

    The model must observe what it is given: run again on the simulated data, its observed
    site must hold that data unchanged, or the reverse run would start from a draw of
    another posterior.
    """
    plain = traced_from_the_prior(model, like)
    refuse_partial_data(plain)
    observed = [name for name, site in plain.items()  # pyro.factor's sites observe no data
                if site["type"] == "sample" and site["is_observed"]
                and type(site["fn"]).__name__ != "Unit"]
    if len(observed) != 1:
        raise EvidenceError(f"evidence_bdmc simulates the data at the model's one observed "
                            f"site; this model observes {len(observed)} ({observed})")
    with pyro.validation_enabled(False), torch.no_grad():
        nodes: dict[str, Any] = poutine.trace(poutine.uncondition(model)).get_trace(like).nodes
    x = nodes[observed[0]]["value"].detach()
    with pyro.validation_enabled(False), torch.no_grad():
        seen = poutine.trace(model).get_trace(x).nodes[observed[0]]["value"]
    if seen.shape != x.shape or not bool(torch.equal(seen, x)):
        raise EvidenceError(
            f"the model observes a function of its data at {observed[0]!r}, not the data "
            "itself: evidence_bdmc passes the simulated site back as the data, so the model "
            f"must observe it unchanged (obs=x); move the transformation into the data")
    return x, nodes
