r"""The evidence of any Pyro model, global latents included: :math:`\log p(x)` by AIS.

For a model :math:`p(\theta)\,p(x \mid \theta)` whose latents :math:`\theta` are shared by
the whole data set (a Bayesian model's parameters, a hierarchy's group means), the same
identity as for a VAE holds with one term for the whole data set,

.. math:: \log p(x) = \mathrm{ELBO}(q) + \mathrm{KL}\big(q(\theta) \,\|\, p(\theta \mid x)\big),

and :math:`p(x) = \int p(\theta)\,p(x \mid \theta)\,d\theta` is the model's *evidence*, the
number behind every Bayes factor. :func:`evidence` estimates it by annealed importance
sampling from the prior to the posterior along
:math:`f_\beta(\theta) = p(\theta)\,p(x \mid \theta)^{\beta}`, :math:`\beta_t = (t/T)^4`,
in the unconstrained space (each latent mapped to the real line by its support's bijection,
the Jacobian in both end densities, so it cancels in the weights
:math:`\log w = \sum_t (\beta_t - \beta_{t-1}) \log p(x \mid \theta_t)`). HMC moves each
chain; all chains run in one vectorised call of the model (a plate of chains left of its own
plates).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import pyro
import torch
from pyro import poutine

from ..anneal import (
    Convergence,
    EvidenceWarning,
    anneal,
    check_settings,
    drift,
    log_mean_exp,
    pooled,
    shorter,
    warn_unless,
)
from ..pair import data_check, exact_log_likelihood
from ..progress import progress_bar
from ..randomness import seeded
from ..results import summarised
from ..validation import check_bool, check_positive_int, check_seed
from .chains import said_once
from .discrete import discrete_assignments, log_joint
from .model_latents import EvidenceError, ModelLatents

__all__ = ["MAX_CHAINS", "SCHEDULE_POWER", "Evidence", "EvidenceError", "EvidenceWarning",
           "checked", "evidence", "power_schedule"]

#: more chains than any estimate needs: a typo, refused before the model runs
MAX_CHAINS = 100_000


@summarised()
@dataclass(frozen=True)
class Evidence:
    r"""An estimate of a model's log evidence :math:`\log p(x)`, in nats for the whole data set.

    Attributes
    ----------
    name : str
        ``"ais-<steps>"``.
    value : float
        :math:`\log \frac1K \sum_k w_k` over the ``chains`` AIS weights.
    stderr : float
        Its standard error over chains (the delta method on the mean weight).
    num_data : int
        Datapoints in ``x`` (the leading dimension); :attr:`per_datapoint` divides by it.
    log_weights : Tensor
        The chains' final log-weights, ``(chains,)``.
    acceptance : float
        The mean HMC acceptance rate (0 when no move was made: one temperature, or nothing
        left to anneal once the discrete latents are summed out).
    ess : float
        The effective sample size of the final weights, from 1 to ``chains`` (with discrete
        latents summed out, each value's, weighted by its share of the evidence).
    convergence : Convergence or None
        What a second run at a quarter of the temperatures says (:mod:`~pvae.anneal.convergence`):
        how far the estimate still moved, the bias likely left, ``converged``. ``None``
        when it was not checked (fewer than 4 temperatures, ``check_convergence=False``,
        or a reverse run).
    """

    name: str
    value: float
    stderr: float
    num_data: int
    log_weights: torch.Tensor
    acceptance: float
    ess: float
    unit: str = "nats for the whole data set"
    convergence: Convergence | None = None

    @property
    def per_datapoint(self) -> float:
        """The log evidence divided by the number of datapoints."""
        return self.value / self.num_data

    @property
    def mean_log_weight(self) -> float:
        r"""The chains' mean log-weight: a lower bound of :math:`\log p(x)` in expectation.

        With ``steps=1`` and a guide it is the guide's ELBO (a Monte Carlo estimate over
        ``chains`` draws); :attr:`value` minus it shows how much the log-mean-exp recovers.
        """
        return float(self.log_weights.mean())

    @property
    def log_weight_variance(self) -> float:
        """The variance of the log-weights: near 0 when AIS has annealed well."""
        return float(self.log_weights.var()) if self.log_weights.numel() > 1 else 0.0

    def __str__(self) -> str:
        checked = "" if self.convergence is None else f"; {self.convergence}"
        return (f"{self.name}: log p(x) = {self.value:.4f} ± {self.stderr:.4f} {self.unit} "
                f"({self.per_datapoint:.4f} per datapoint; ESS {self.ess:.1f}{checked})")


def evidence(model: Any, x: Any, *, guide: Any = None, steps: int = 1000, chains: int = 512,
             leapfrog: int = 10, target_acceptance: float = 0.65, seed: int | None = None,
             progress: bool = True, check_convergence: bool = True) -> Evidence:
    r"""The log evidence :math:`\log p(x) = \log \int p(\theta)\,p(x \mid \theta)\,d\theta` by AIS.

    Parameters
    ----------
    model : callable
        Any Pyro model taking the data as its one argument, ``model(x)``, with every latent
        site continuous and its prior proper; or a pvae model with a ``model`` method (such
        as :class:`~pvae.models.BayesianGaussian`), whose own check then validates ``x``.
        Its latents are annealed together, global or not.
    x : Tensor
        The data the model observes; its first dimension counts the datapoints (array-like
        for a pvae model).
    guide : callable, optional
        A guide :math:`q(\theta)` fitted to the model, to start the chains from instead of
        the prior: the path is then :math:`q^{1-\beta}\,p(x, \theta)^{\beta}`. Pyro's
        ``AutoNormal`` and ``AutoContinuous`` guides (``AutoMultivariateNormal``, ...), or any
        guide that samples exactly the model's latent sites, each with a density. With
        ``steps=1`` the estimate is importance sampling from the guide (IWAE with ``chains``
        samples) and :attr:`Evidence.mean_log_weight` its ELBO; with the exact posterior as
        the guide, every weight is :math:`p(x)` itself.
    steps : int
        Temperatures :math:`T`, on the power schedule :math:`\beta_t = (t/T)^4` from the
        start density to the posterior (:func:`power_schedule`).
    chains : int
        Independent AIS chains, combined by log-mean-exp; they run in one vectorised call,
        so many cost little more than a few (the default keeps the standard error near
        0.03 nats on small models, where the chains cost little more than one).
    leapfrog : int
        Leapfrog steps per HMC transition (unit masses, one step size that adapts towards
        ``target_acceptance``).
    seed : int, optional
        Fixes the draws and the moves: the same call with the same seed gives the same
        numbers, and the caller's random state is left as it was (``None``: the global
        generators).
    progress : bool
        Show progress: a bar on a terminal after a few seconds, a line every half minute
        elsewhere (:mod:`pvae.progress`).
    check_convergence : bool
        Run AIS a second time at a quarter of the temperatures and report, on
        :attr:`Evidence.convergence`, how far the estimate still moves and the bias likely
        left (:mod:`~pvae.anneal.convergence`); a quarter more time.

    Returns
    -------
    Evidence
        In nats for the whole data set, with its standard error over chains and the
        diagnostics (acceptance, effective sample size, the log-weights' variance, the
        convergence check).

    Warns
    -----
    EvidenceWarning
        Once, when the estimate has not converged (the check run moved it by more than its
        standard errors allow past 0.1 nats of bias) or its weights collapsed onto a few
        chains, giving the figures and the fix.

    Raises
    ------
    EvidenceError
        For a model with no latent site, one that observes nothing, an improper prior, a
        discrete latent inside a plate or without a finite support, a latent that does not
        broadcast over a plate of chains, a plate that subsamples the data, a scaled site,
        or a guide whose sites are not the model's latents.

    Notes
    -----
    Global discrete latents :math:`c` (outside every plate, with a finite support) are summed
    out exactly, :math:`p(x) = \sum_c p(x, c)`: one AIS run per joint value, each with
    ``chains`` chains (:mod:`~pvae.bayes.discrete`).
    """
    model, x = program_and_data("evidence", model, x, "x", "the model's data")
    if not bool(torch.isfinite(x).all()):
        raise ValueError("x holds NaN or infinite values; drop or impute them first")
    target = checked_settings(steps, chains, leapfrog, target_acceptance, progress, seed)
    check_bool(check_convergence, "check_convergence")
    run = functools.partial(_evidence, model, x, guide=guide, chains=chains, leapfrog=leapfrog,
                            target=target, progress=progress)
    with seeded(seed), said_once():
        estimate = checked(run, steps, check_convergence)
    warn_unless(estimate.name, estimate.convergence, estimate.ess, chains, steps,
                fix=_FIX if guide is None else "fit the guide better, or start from the prior "
                "(guide=None)")
    return estimate


#: what to do, besides more temperatures, when an evidence from the prior is far off
_FIX = "start the chains from a guide fitted to the model (guide=...)"


def checked(run: Callable[[int, bool], Evidence], steps: int, check_convergence: bool
            ) -> Evidence:
    """``run(steps, settle)``, checked: its chains settled, and a run at a quarter of the steps.

    See :mod:`.convergence`; ``check_convergence=False`` runs once, unchecked.
    """
    estimate = run(steps, check_convergence)
    short = shorter(steps) if check_convergence else None
    if short is None or estimate.convergence is None:
        return estimate
    check = run(short, False)
    return replace(estimate, convergence=estimate.convergence._replace(
        short_steps=short, short_value=check.value,
        shift_stderr=math.hypot(estimate.stderr, check.stderr)))


def _evidence(model: Any, x: torch.Tensor, steps: int, settle: bool, *, guide: Any,
              chains: int, leapfrog: int, target: float, progress: bool) -> Evidence:
    """One AIS estimate of the evidence at ``steps`` temperatures; ``settle``: its drift."""
    name = f"ais-{steps}" if guide is None else f"ais-{steps} from the guide"
    with pyro.validation_enabled(False):
        assignments, continuous = discrete_assignments(model, x)
        if not assignments:
            latents = ModelLatents(model, x, chains, guide)
            return annealed(latents, latents.draw(chains), evidence_schedule(steps, x), leapfrog,
                            target, progress, name, settle)
        if guide is not None:
            raise EvidenceError("a guide cannot start the chains of a model with discrete "
                                "latents, which are summed out one value at a time; pass "
                                "guide=None")

        def term(given: dict[str, torch.Tensor]) -> Evidence:
            conditioned = poutine.condition(model, data=given)
            if not continuous:
                value = log_joint(conditioned, x)
                return Evidence(name, value, 0.0, int(x.shape[0]),
                                torch.full((chains,), value, dtype=torch.float64), 0.0, chains)
            latents = ModelLatents(conditioned, x, chains)
            return annealed(latents, latents.draw(chains), evidence_schedule(steps, x), leapfrog,
                            target, progress, name, settle)

        return _summed([term(given) for given in assignments],
                       f"{name}, {len(assignments)} discrete values summed")


def _summed(terms: list[Evidence], name: str) -> Evidence:
    r""":math:`\log \sum_c p(x, c)` from each assignment's term :math:`\log p(x, c)`.

    The standard error is the delta method's, :math:`\sqrt{\sum_c \pi_c^2 s_c^2}` with
    :math:`\pi_c` each term's share of the sum. Every term has as many chains, so their
    log-weights shifted by :math:`\log C` have the sum as their log-mean-exp. The effective
    sample size is the terms' own, weighted by their shares: at most the chains of one run.
    """
    values = torch.tensor([term.value for term in terms], dtype=torch.float64)
    shares = torch.softmax(values, 0)
    errors = torch.tensor([term.stderr for term in terms], dtype=torch.float64)
    weights = torch.cat([term.log_weights.double() for term in terms]) + math.log(len(terms))
    ess = torch.tensor([term.ess for term in terms], dtype=torch.float64)
    value = float(torch.logsumexp(values, 0))
    checks = [term.convergence for term in terms]
    convergence = None
    if all(check is not None for check in checks):  # each value's drift, by its share
        drifts = torch.tensor([check.drift for check in checks if check is not None],
                              dtype=torch.float64)
        drift_errors = torch.tensor([check.drift_stderr for check in checks if check is not None],
                                    dtype=torch.float64)
        first = checks[0]
        assert first is not None
        convergence = Convergence(first.steps, value, float((shares * drifts).sum()),
                                  float((shares.pow(2) * drift_errors.pow(2)).sum().sqrt()))
    return Evidence(name, value, float((shares.pow(2) * errors.pow(2)).sum().sqrt()),
                    terms[0].num_data, weights,
                    sum(term.acceptance for term in terms) / len(terms),
                    float((shares * ess).sum()), convergence=convergence)


def program_and_data(caller: str, model: Any, data: Any, name: str,
                      what: str) -> tuple[Any, torch.Tensor]:
    """The Pyro program to run and its data: a pvae model gives its ``model`` and its check."""
    program = getattr(model, "model", None)
    if isinstance(model, torch.nn.Module) and callable(program) \
            and callable(getattr(model, "guide", None)):
        _refuse_fitted(caller, model)
    if not callable(model) and callable(program):
        check = data_check(model)
        if check is not None:
            data = check(data)
        model = program
    if not callable(model):
        raise TypeError(f"{caller} needs a Pyro model to call (or a pvae model with a model "
                        f"method); got {type(model).__name__}")
    if not isinstance(data, torch.Tensor) or data.dim() == 0 or data.shape[0] == 0:
        raise ValueError(f"{name} must be {what}, as a tensor with at least one datapoint "
                         "(its first dimension)")
    if data.is_complex() or data.dtype == torch.bool:
        raise ValueError(f"{name} holds {data.dtype} values: pass real numbers (floats, or "
                         "integer counts)")
    return model, data


def _refuse_fitted(caller: str, model: Any) -> None:
    """A pvae model fitted by (a bound on) maximum likelihood has no prior: say what to use."""
    kind = type(model).__name__
    if exact_log_likelihood(model) is not None:
        use = "its log-likelihood is exact: pvae.exact(model, x)"
    else:
        use = ("log p(x) of its data is estimated per datapoint by pvae.ais (or bounded by "
               "pvae.iwae)")
    raise EvidenceError(f"{caller} integrates a model's latents against their priors; this "
                        f"{kind}'s parameters are point estimates with no prior, so {use}. "
                        f"For the evidence of its Pyro model given those parameters, pass "
                        f"model.model")


def checked_settings(steps: int, chains: int, leapfrog: int, target_acceptance: float,
                      progress: bool, seed: int | None) -> float:
    """Check the settings before any work, seed the run; the target acceptance rate."""
    check_bool(progress, "progress")
    target = check_settings(steps, chains, leapfrog, target_acceptance)
    if check_positive_int(chains, "chains") > MAX_CHAINS:
        raise ValueError(f"chains={chains} is more than any estimate needs (at most "
                         f"{MAX_CHAINS}; 512 give about 0.03 nats on small models)")
    check_seed(seed)
    return target


#: the power of the schedule: 4 and 5 are the usual choices for a Bayesian model's evidence
SCHEDULE_POWER = 4


def power_schedule(steps: int, power: float = SCHEDULE_POWER) -> torch.Tensor:
    r"""``steps + 1`` inverse temperatures :math:`\beta_t = (t / T)^{p}` from 0 to 1.

    For a global latent the tempered posteriors :math:`p(\theta)\,p(x \mid \theta)^\beta`
    shrink from the prior's width to the posterior's over the first few orders of magnitude
    of :math:`\beta` (the variance of :math:`\log p(x \mid \theta)` under them falls like
    :math:`1/\beta^2`), so the steps belong near 0 — more so the vaguer the prior. A power
    schedule puts them there (Friel and Pettitt, 2008; Xie et al., 2011): measured on a
    Normal mean whose prior is 450 times the posterior's width, the standard error at 1000
    steps is 0.05 nats with :math:`p = 4` and 0.27 with the sigmoid schedule VAEs use.
    """
    return torch.linspace(0.0, 1.0, check_positive_int(steps, "steps") + 1,
                          dtype=torch.float64) ** power


def evidence_schedule(steps: int, x: torch.Tensor) -> torch.Tensor:
    return power_schedule(steps).to(x.dtype if x.is_floating_point() else torch.float64)


def annealed(latents: ModelLatents, positions: torch.Tensor, betas: torch.Tensor,
             leapfrog: int, target: float, progress: bool, name: str,
             settle: bool = False) -> Evidence:
    """AIS along ``betas`` from ``positions``; the log-mean-exp of the weights, as an Evidence.

    ``positions`` are the chains' first codes: draws from the start density, or (reverse
    runs) exact posterior draws. With falling ``betas`` the weights estimate
    :math:`1 / p(x)`: the value returned is then minus their log-mean-exp, an upper bound.
    ``settle`` (forward runs) measures whether the chains reached the posterior
    (:func:`~pvae.anneal.drift`), the first half of :attr:`Evidence.convergence`.
    """
    with progress_bar(len(betas) - 1, f"evidence {name}", show=progress) as bar:
        run = anneal(latents, positions, betas, leapfrog=leapfrog, target=target, bar=bar)
    log_w = run.log_weights
    weights = log_w.reshape(-1).detach()
    reverse = bool(betas[0] > betas[-1])
    value = float(log_mean_exp(weights)) * (-1 if reverse else 1)
    if not math.isfinite(value):
        raise ValueError(f"the AIS estimate is {value}: every chain's weight vanished; raise "
                         "steps, or check that the prior covers the data")
    normalised = torch.softmax(weights, 0)
    k = weights.numel()
    stderr = (float(((k * normalised - 1) ** 2).sum() / (k * (k - 1))) ** 0.5 if k > 1
              else math.inf)
    acceptance = float(run.accepted.mean()) / max(run.moves, 1)
    ess = min(float(1.0 / normalised.double().pow(2).sum()), k)
    convergence = None
    if settle and not reverse:
        moved = pooled(*drift(run, leapfrog, target))
        convergence = Convergence(len(betas) - 1, value, *moved)
    return Evidence(name, value, stderr, int(latents.x.shape[0]), weights.cpu(), acceptance,
                    ess, convergence=convergence)
