r"""Annealed importance sampling (Neal, 2001): an estimate of :math:`\log p(x)` that closes the gap.

Between a start density :math:`p_0(z)` — the guide :math:`q(z \mid x)` or the prior
:math:`p(z)` — and the unnormalised posterior :math:`p(x, z)` lies the geometric path

.. math:: f_\beta(z) = p_0(z)^{1 - \beta}\, p(x, z)^{\beta}, \qquad
          0 = \beta_0 < \beta_1 < \dots < \beta_T = 1,

whose normalisers run from 1 to :math:`p(x)`. A chain starts at :math:`z_0 \sim p_0`, and at
every step :math:`t` it gains the log-weight

.. math:: \log w \mathrel{+}= (\beta_t - \beta_{t-1})\,\big[\log p(x, z) - \log p_0(z)\big]

at its current :math:`z`, then moves by an HMC transition that leaves :math:`f_{\beta_t}`
invariant. :math:`\mathbb{E}[w] = p(x)`, so the log-mean-exp over chains is a stochastic
lower bound of :math:`\log p(x)` that tightens as :math:`T` grows. With :math:`T = 1` it is
importance sampling from :math:`p_0`, i.e. IWAE.

Run backwards — from an exact posterior sample, :math:`\beta` from 1 to 0 — the same
procedure estimates :math:`1 / p(x)` without bias, which gives a stochastic *upper* bound:
the reverse half of :func:`pvae.bdmc`. HMC step sizes adapt per datapoint towards a target
acceptance rate while annealing; a move whose energy is not finite is rejected.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

import pyro
import torch
from pyro import poutine

from ..anneal import (
    Convergence,
    anneal,
    drift,
    effective_sample_size,
    log_mean_exp,
    pooled,
    shorter,
    warn_unless,
)
from ..anneal import check_settings as check_annealing
from ..pair import Latent, in_particles, latent_of, log_joint, true_objective
from ..progress import progress_bar
from ..randomness import seeded
from ..results import summarised
from ..validation import check_bool, check_count, check_positive_int
from .importance import Estimate, prepare

__all__ = ["STARTS", "AISEstimate", "Annealed", "ais", "anneal_rows", "check_settings",
           "sigmoid_schedule"]

STARTS = ("guide", "prior")


@summarised()
@dataclass(frozen=True)
class AISEstimate(Estimate):
    r"""An AIS estimate with its diagnostics, one value per datapoint.

    Attributes
    ----------
    acceptance : Tensor
        The mean HMC acceptance rate over the run.
    ess : Tensor
        The effective sample size of the final weights, :math:`(\sum w)^2 / \sum w^2`,
        from 1 (one chain carries all the weight) to ``chains``.
    step_size : Tensor
        The HMC step size the run ended with.
    convergence : Convergence or None
        What a second run at a quarter of the temperatures says (:mod:`~pvae.anneal.convergence`);
        ``None`` when not checked.
    """

    acceptance: torch.Tensor | None = None
    ess: torch.Tensor | None = None
    step_size: torch.Tensor | None = None
    convergence: Convergence | None = None


def sigmoid_schedule(steps: int, sharpness: float = 4.0) -> torch.Tensor:
    r"""``steps + 1`` inverse temperatures from 0 to 1, dense at both ends.

    :math:`\beta_t \propto \sigma(\delta\,(2t/T - 1))`, rescaled to run from exactly 0 to 1
    (Grosse et al., 2015): the densities change fastest near the ends of the path.
    """
    steps = check_positive_int(steps, "steps")
    grid = torch.sigmoid(sharpness * torch.linspace(-1.0, 1.0, steps + 1, dtype=torch.float64))
    return (grid - grid[0]) / (grid[-1] - grid[0])


class _Path:
    r"""The annealing path of one chunk of rows: a :class:`~pvae.anneal.Potential`.

    ``start`` is the start density :math:`p_0`, resolved once from its name: the guide's
    distribution at the latent site (``"guide"``), or ``None`` for the prior, whose density
    the joint's own trace gives beside :math:`\log p(x, z)`.
    """

    #: the pair's potential runs Pyro's handlers around a module: evaluated eagerly
    recordable = False

    def __init__(self, pair: Any, x: torch.Tensor, latent: Latent, start: str) -> None:
        self.pair, self.x, self.latent = pair, x, latent
        self.start: Any = None
        if start == "guide":
            with torch.no_grad():
                trace = poutine.trace(in_particles(pair.guide, x, 1)).get_trace()
            site = trace.nodes.get(latent.name)
            if site is None or not hasattr(site["fn"], "log_prob") or _is_point(site["fn"]):
                raise ValueError("start='guide' needs a guide with a density at the latent "
                                 "site; this guide is a point mass (a Delta). Use "
                                 "start='prior' (pvae evaluate --start prior)")
            self.start = site["fn"]

    def draw(self, chains: int) -> torch.Tensor:
        """``chains`` codes per row from the start density, ``(chains, B, *event)``."""
        with torch.no_grad():
            if self.start is not None:  # the guide's batch is (1, B): one particle per row
                return self.start.sample((chains,)).squeeze(1)
            trace = poutine.trace(in_particles(self.pair.model, self.x, chains)).get_trace()
        nodes: dict[str, Any] = trace.nodes
        return nodes[self.latent.name]["value"].detach()

    def ends(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        r""":math:`\log p(x, z)` and :math:`\log p_0(z)`, each ``(k, B)``."""
        joint, prior = log_joint(self.pair, self.x, self.latent, z)
        if self.start is None:
            return joint, prior
        return joint, self.start.log_prob(z).reshape(joint.shape)


def _is_point(fn: Any) -> bool:
    base = fn
    while hasattr(base, "base_dist"):
        base = base.base_dist
    return type(base).__name__ == "Delta"


@contextlib.contextmanager
def _annealing(pair: Any) -> Iterator[None]:
    """The true model (KL weight 1), without re-validating every distribution's arguments.

    Gradients are taken with respect to the codes alone (``torch.autograd.grad``), so the
    parameters' gradients are neither computed nor touched.
    """
    with true_objective(pair), pyro.validation_enabled(False):
        yield


def check_settings(steps: int, chains: int, leapfrog: int, batch_size: int,
                   target_acceptance: float, start: str) -> float:
    """Check AIS's settings before any work; return the target acceptance rate."""
    check_positive_int(batch_size, "batch_size")
    if start not in STARTS:
        raise ValueError(f"unknown start {start!r}; choose one of {', '.join(STARTS)}")
    return check_annealing(steps, chains, leapfrog, target_acceptance)


class Annealed(NamedTuple):
    """Every row's annealing: log-weights ``(chains, N)``, acceptance rates, step sizes.

    With ``settle``, also each row's :func:`~pvae.anneal.drift` (mean and variance).
    """

    log_w: torch.Tensor
    acceptance: torch.Tensor
    step_size: torch.Tensor
    drift: tuple[torch.Tensor, torch.Tensor] | None = None


def anneal_rows(pair: Any, x: torch.Tensor, betas: torch.Tensor, *, start: str, chains: int,
                leapfrog: int, target: float, batch_size: int, progress: bool, label: str,
                codes: torch.Tensor | None = None, settle: bool = False) -> Annealed:
    """Anneal every row of ``x`` in chunks.

    ``codes`` (one per row) start every chain of their row there instead of at draws from
    the start density: the exact posterior samples of reverse AIS. ``settle`` then moves
    the chains on at the posterior to measure their :func:`~pvae.anneal.drift`.
    """
    check_count(chains, "chains", each=min(batch_size, len(x)) * x[0].numel())
    weights, acceptance, step_sizes, drifts = [], [], [], []
    chunks = range(0, x.shape[0], batch_size)
    with _annealing(pair), progress_bar(len(chunks) * (len(betas) - 1), label,
                                                 show=progress) as bar:
        latent = latent_of(pair, x[:1])
        for first in chunks:
            rows = x[first:first + batch_size]
            path = _Path(pair, rows, latent, start)
            if codes is None:
                z = path.draw(chains)
            else:
                chunk = codes[first:first + batch_size].to(rows)
                z = chunk.expand(chains, *chunk.shape).clone()
            run = anneal(path, z, betas, leapfrog=leapfrog, target=target, bar=bar)
            weights.append(run.log_weights)
            acceptance.append(run.acceptance)
            step_sizes.append(run.step_size.reshape(-1))
            if settle:
                drifts.append(drift(run, leapfrog, target))
    return Annealed(torch.cat(weights, 1), torch.cat(acceptance), torch.cat(step_sizes),
                    (torch.cat([m for m, _ in drifts]), torch.cat([v for _, v in drifts]))
                    if settle else None)


def ais(pair: Any, x: Any, *, steps: int = 1000, chains: int = 16, start: str = "guide",
        leapfrog: int = 10, target_acceptance: float = 0.65, batch_size: int = 100,
        progress: bool = True, seed: int | None = None, check_convergence: bool = True
        ) -> AISEstimate:
    r"""Annealed importance sampling of :math:`\log p(x)` per datapoint (nats).

    Parameters
    ----------
    pair : object
        A model/guide pair with one continuous latent site per datapoint.
    x : array-like
        The data, one row per datapoint.
    steps : int
        Intermediate temperatures :math:`T` (a sigmoid schedule); the cost is about
        ``steps * (leapfrog + 1)`` evaluations of the model per chain.
    chains : int
        Independent chains per datapoint, combined by log-mean-exp.
    start : {"guide", "prior"}
        The start density :math:`p_0`: the amortised guide (usually far closer to the
        posterior) or the prior.
    leapfrog : int
        Leapfrog steps per HMC transition.
    target_acceptance : float
        The acceptance rate the per-datapoint step sizes adapt towards.
    batch_size : int
        Rows annealed at once (all their chains together): bounds the memory.
    progress : bool
        Show progress: a bar on a terminal after a few seconds, a line every half minute
        elsewhere (:mod:`pvae.progress`).
    seed : int, optional
        Fixes every draw: the same call with the same seed gives the same numbers, and the
        caller's random state is left as it was (``None``: the global generators).
    check_convergence : bool
        Anneal a second time at a quarter of the temperatures and report, on
        :attr:`AISEstimate.convergence`, how far the estimate still moves (paired over
        datapoints) and the bias likely left (:mod:`~pvae.anneal.convergence`); a quarter
        more time.

    Returns
    -------
    AISEstimate
        Named ``"ais-<steps>"``: the value, its standard error over datapoints, and the
        diagnostics (acceptance rate, effective sample size, final step size, convergence).

    Warns
    -----
    EvidenceWarning
        Once, when the check run moved the mean estimate by more than its paired standard
        errors allow past 0.1 nats per datapoint of bias left.
    """
    progress = check_bool(progress, "progress")
    check_bool(check_convergence, "check_convergence")
    target = check_settings(steps, chains, leapfrog, batch_size, target_acceptance, start)

    def run(temperatures: int, settle: bool) -> Annealed:
        return anneal_rows(pair, tensor, sigmoid_schedule(temperatures), start=start,
                           chains=chains, leapfrog=leapfrog, target=target,
                           batch_size=batch_size, progress=progress,
                           label=f"AIS-{temperatures}", settle=settle)

    short = shorter(steps) if check_convergence else None
    with seeded(seed):
        tensor = prepare(pair, x)
        main = run(steps, check_convergence)
        values = log_mean_exp(main.log_w)
        convergence = None
        if main.drift is not None:
            convergence = Convergence(steps, float(values.mean()), *pooled(*main.drift))
        if convergence is not None and short is not None:
            short_values = log_mean_exp(run(short, False).log_w)
            convergence = convergence._replace(
                short_steps=short, short_value=float(short_values.mean()),
                shift_stderr=_stderr((values - short_values).double()))
    estimate = AISEstimate.of(f"ais-{steps}", values, chains)
    ess = effective_sample_size(main.log_w).cpu()
    warn_unless(estimate.name, convergence, float(ess.mean()), chains, steps,
                fix="start from the guide (start='guide')" if start == "prior" else
                "train the guide longer", stacklevel=2)
    return replace(estimate, acceptance=main.acceptance.cpu(), ess=ess,
                   step_size=main.step_size.cpu(), convergence=convergence)


def _stderr(values: torch.Tensor) -> float:
    """The standard error of the mean of ``values`` (infinite for one value)."""
    return float(values.std() / math.sqrt(values.numel())) if values.numel() > 1 else math.inf
