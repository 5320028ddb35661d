r"""A Bayesian model's evidence from its posterior draws: :math:`\log p(x)` by bridge sampling.

With draws :math:`\theta_i \sim p(\theta \mid x)` already made (by NUTS, say), the evidence
needs one more density, a proposal :math:`g(\theta)` to sample and evaluate. For
:math:`q(\theta) = p(x, \theta)` and any bridge function :math:`h`, Meng and Wong (1996)'s
identity :math:`p(x) = \mathbb E_g[q h] / \mathbb E_{p(\theta \mid x)}[g h]` holds; the
:math:`h` of least error, :math:`h \propto 1/(s_1 q + s_2\,p(x)\,g)`, makes the estimate the
fixed point of

.. math:: \hat r^{(t+1)} = \frac{\frac1{N_2} \sum_j \ell_{2j} / (s_1 \ell_{2j} + s_2 \hat r^{(t)})}
                              {\frac1{N_1} \sum_i 1 / (s_1 \ell_{1i} + s_2 \hat r^{(t)})},
   \qquad \ell = q / g,

over :math:`N_1` posterior draws (:math:`\ell_{1i}`) and :math:`N_2` proposal draws
(:math:`\ell_{2j}`), :math:`s_1 = N_1/(N_1+N_2)`, :math:`s_2 = N_2/(N_1+N_2)`. pvae follows
Gronau et al. (2017)'s practical scheme, in the unconstrained space of :mod:`~.model_latents`
(each latent mapped to the real line, the Jacobian in :math:`q`):

1. **Split.** The first half of every chain fits :math:`g`, the second half bridges: fit and
   bridge use different draws (the estimate would be biased otherwise), and the bridging
   half keeps each chain's order, which its autocorrelation needs. A dict of draws is one
   chain, in its order.
2. **Proposal.** :math:`g = \mathcal N(m, \Sigma)` with the first half's mean and covariance.
3. **Iterate** in log space (:math:`\log(s_1 \ell + s_2 r)` by ``logaddexp``) from the median
   :math:`\ell_1` until :math:`|\hat r^{(t+1)}/\hat r^{(t)} - 1|` is below the tolerance. As
   Gronau et al. do, :math:`N_1` in :math:`s_1, s_2` is the bridging half's effective sample
   size (the median over the unconstrained coordinates, :func:`~.draws.integrated_time`).
4. **Error.** Frühwirth-Schnatter (2004)'s approximate relative mean-squared error, with
   :math:`f_1 = g / (s_1 q/\hat p + s_2 g)` at the posterior draws and
   :math:`f_2 = (q/\hat p) / (s_1 q/\hat p + s_2 g)` at the proposal's,

   .. math:: \mathrm{RE}^2 = \frac{\mathbb V_g(f_2)}{N_2\,\mathbb E_g(f_2)^2}
             + \frac{\tau_{f_1}}{N_1} \frac{\mathbb V_{post}(f_1)}{\mathbb E_{post}(f_1)^2},

   :math:`\tau_{f_1}` the integrated autocorrelation time of :math:`f_1` along the chains
   (its normalised spectral density at frequency 0). By the delta method
   :math:`\sqrt{\mathrm{RE}^2}` is the standard error of :math:`\log \hat p(x)`.
5. **Check.** That error assumes the draws are the posterior's; draws of the prior (or given
   other data) give a confident wrong value. Importance sampling from :math:`g` estimates
   :math:`p(x)` whatever the draws, and seldom overshoots: a bridge far below it is refused.
"""

from __future__ import annotations

import math
import statistics
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pyro
import torch
from pyro.poutine.util import site_is_subsample

from ..anneal import EvidenceWarning
from ..randomness import seeded
from ..results import summarised
from ..validation import check_count, check_positive_int, check_positive_number, check_seed
from .ais import program_and_data
from .chains import said_once
from .draws import check_posterior, integrated_time, posterior_draws
from .model_latents import EvidenceError, ModelLatents, refuse_partial_data, traced_from_the_prior

__all__ = ["MIN_DRAWS", "BridgeEvidence", "bridge_sampling"]

#: the fewest posterior draws in each half (the proposal's fit and the bridge)
MIN_DRAWS = 20
#: draws whose log-density one vectorised call of the model computes
CHUNK = 512
#: the most repeats (a typo beyond), fixed-point iterations (it converges in tens) and
#: proposal draws in all (each a run of the model); the least tolerance float64 resolves
MAX_REPEATS, MAX_ITERATIONS, MAX_PROPOSALS, MIN_TOLERANCE = 1000, 10**5, 10**7, 1e-14

@summarised("spread")
@dataclass(frozen=True)
class BridgeEvidence:
    r"""A bridge-sampling estimate of a model's log evidence :math:`\log p(x)`, in nats.

    Attributes
    ----------
    name : str
        ``"bridge-<n>"``, ``n`` the posterior draws used (both halves).
    value : float
        :math:`\log \hat p(x)` for the whole data set (the median over the repeats).
    stderr : float
        Its approximate standard error, :math:`\sqrt{\mathrm{RE}^2}` (one repeat's: the
        median of several shrinks only the proposal's share, so it is conservative there).
    num_data : int
        Datapoints in ``x`` (its first dimension); :attr:`per_datapoint` divides by it.
    iterations : int
        Fixed-point iterations taken (the most over the repeats).
    converged : bool
        Whether every repeat's iteration reached the tolerance.
    relative_mse : float
        Frühwirth-Schnatter's approximate relative mean-squared error of :math:`\hat p(x)`,
        :math:`\mathrm{RE}^2` (the mean over the repeats).
    ess : float
        The bridging half's effective sample size (the median over the unconstrained
        coordinates, at most its length), which sets :math:`s_1` and :math:`s_2`.
    posterior_draws : int
        Posterior draws in the bridging half, :math:`N_1`.
    proposal_draws : int
        Proposal draws per repeat, :math:`N_2`.
    repeats : tuple of float
        Each repeat's estimate (fresh proposal draws, the same posterior draws); their
        :attr:`spread` is the proposal's share of the error only.
    """

    name: str
    value: float
    stderr: float
    num_data: int
    iterations: int
    converged: bool
    relative_mse: float
    ess: float
    posterior_draws: int
    proposal_draws: int
    repeats: tuple[float, ...]
    unit: str = "nats for the whole data set"

    @property
    def per_datapoint(self) -> float:
        """The log evidence divided by the number of datapoints."""
        return self.value / self.num_data

    @property
    def spread(self) -> float:
        """The repeats' standard deviation (0 with one repeat)."""
        return statistics.stdev(self.repeats) if len(self.repeats) > 1 else 0.0

    def __str__(self) -> str:
        repeated = (f"; {len(self.repeats)} repeats spread {self.spread:.4f}"
                    if len(self.repeats) > 1 else "")
        verdict = "" if self.converged else ", NOT converged"
        return (f"{self.name}: log p(x) = {self.value:.4f} ± {self.stderr:.4f} {self.unit} "
                f"({self.per_datapoint:.4f} per datapoint; ESS {self.ess:.1f} of "
                f"{self.posterior_draws}, {self.iterations} iterations{verdict}{repeated})")


def bridge_sampling(model: Any, draws: Any, x: Any, *, proposal_draws: int | None = None,
                    repeats: int = 1, iterations: int = 1000, tolerance: float = 1e-10,
                    seed: int | None = None) -> BridgeEvidence:
    r"""The log evidence :math:`\log p(x)` from posterior draws, by bridge sampling.

    Parameters
    ----------
    model : callable
        Any Pyro model ``model(x)`` with continuous latents and proper priors, or a pvae
        model with a ``model`` method (:class:`~pvae.models.BayesianGaussian`): what
        :func:`~pvae.evidence` takes.
    draws : DataTree or dict
        Posterior draws of every latent site: the ``DataTree`` :func:`pvae.mcmc` returns
        (group ``posterior``, dims ``chain, draw, ...``; or that group alone, as a node or
        an xarray ``Dataset``), or a dict ``{site: draws}`` of
        arrays or tensors shaped ``(num_draws, *site_shape)``, taken as one chain in order.
        At least :data:`MIN_DRAWS` in each half.
    x : Tensor
        The data the model observes (and the draws were conditioned on).
    proposal_draws : int, optional
        Draws from the proposal per repeat, :math:`N_2` (default: as many as the bridging
        half's posterior draws).
    repeats : int
        Independent repeats with fresh proposal draws; the value is their median and
        :attr:`BridgeEvidence.spread` their standard deviation.
    iterations : int
        The most fixed-point iterations per repeat.
    tolerance : float
        The relative change :math:`|\hat r^{(t+1)}/\hat r^{(t)} - 1|` at which the iteration stops.
    seed : int, optional
        Fixes the proposal draws: the same call with the same seed gives the same number to
        the bit, and the caller's random state is left as it was.

    Returns
    -------
    BridgeEvidence
        In nats for the whole data set, with its standard error (see the module's notes).

    Warns
    -----
    EvidenceWarning
        When the iteration has not reached ``tolerance`` within ``iterations``.

    Raises
    ------
    EvidenceError
        For what :func:`~pvae.evidence` refuses (no latent, nothing observed, an improper
        prior, partial data), and for a discrete latent, which :func:`~pvae.evidence` sums out.
    ValueError
        For draws that miss or add a site, have the wrong shape, non-finite values or values
        outside a site's support, too few draws, or draws with no density under the model,
        and for draws that importance sampling shows not to be the posterior's.
    """
    if isinstance(model, type):
        raise TypeError(f"model is the class {model.__name__}: pass a model (an instance, or a "
                        "Pyro model function)")
    model, x = program_and_data("bridge_sampling", model, x, "x", "the model's data")
    if x.dtype in (torch.float16, torch.bfloat16):
        x = x.float()  # as pvae's models do: log-densities in half precision are off by tenths
    if not bool(torch.isfinite(x).all()):
        raise ValueError("x holds NaN or infinite values; drop or impute them first")
    if proposal_draws is not None and check_count(proposal_draws, "proposal_draws") < MIN_DRAWS:
        raise ValueError(f"proposal_draws={proposal_draws} is too few for the error's variance "
                         f"(at least {MIN_DRAWS}); leave it None for as many as the bridging half")
    if check_positive_int(repeats, "repeats") > MAX_REPEATS:
        raise ValueError(f"repeats={repeats} is more than a spread needs (at most {MAX_REPEATS})")
    if check_count(iterations, "iterations") > MAX_ITERATIONS:
        raise ValueError(f"iterations={iterations} is more than the fixed point needs (tens; at "
                         f"most {MAX_ITERATIONS}): a typo?")
    if check_positive_number(tolerance, "tolerance", at_most=0.1) < MIN_TOLERANCE:
        raise ValueError(f"tolerance={tolerance:g} is below float64's resolution: the iteration "
                         f"would cycle in the last bits; pass at least {MIN_TOLERANCE:g}")
    check_seed(seed)
    with seeded(seed), said_once(), pyro.validation_enabled(False), torch.no_grad():
        nodes = traced_from_the_prior(model, x)
        refuse_partial_data(nodes)
        sites = _latent_sites(nodes)
        observed = frozenset(name for name, site in nodes.items()
                             if site["type"] == "sample" and site["is_observed"])
        chained = posterior_draws(draws, sites, x.device, observed)
        chains, length = next(iter(chained.values())).shape[:2]
        half = length // 2
        if chains * half < MIN_DRAWS:
            raise ValueError(f"bridge sampling needs at least {MIN_DRAWS} posterior draws in "
                             f"each half (one fits the proposal, one bridges); got "
                             f"{chains * length}: draw more (num_samples=...)")
        n1 = chains * (length - half)
        n2 = n1 if proposal_draws is None else proposal_draws
        if repeats * n2 > MAX_PROPOSALS:
            raise ValueError(f"repeats × proposal draws = {repeats * n2} runs of the model, more "
                             f"than an estimate needs (at most {MAX_PROPOSALS:.0e}); ask for "
                             "fewer repeats or proposal_draws")
        latents = ModelLatents(model, x, min(CHUNK, n1 + n2))
        fit = _unconstrained(latents, _rows(latents, sites, {
            name: value[:, :half] for name, value in chained.items()}))
        rows = _rows(latents, sites, {name: value[:, half:] for name, value in chained.items()})
        bridge = _unconstrained(latents, rows)
        proposal = _proposal(fit)
        log_q = _log_joint(latents, bridge, rows)
        bad = log_q[~torch.isfinite(log_q)]
        if bad.numel() and bool((bad == math.inf).all()):
            raise ValueError(f"the model's log-density is +inf at {bad.numel()} posterior draws "
                             "(a factor or density without bound there): its evidence is not "
                             "finite; bound it")
        if bad.numel():
            raise ValueError(f"{bad.numel()} posterior draws have no density under the model "
                             f"given x (log p(x, θ) = {float(bad[bad != math.inf][0])}: on the "
                             "edge of a site's support, or draws of another model or data): "
                             "pass draws of this model's posterior")
        l1 = log_q - proposal.log_prob(bridge)
        layout = bridge.reshape(chains, length - half, -1)
        ess = min(float((n1 / integrated_time(layout)).median()), float(n1))
        upper, runs = float(math.log(l1.numel()) - torch.logsumexp(-l1, 0)), []
        for _ in range(repeats):
            runs.append(_bridged(latents, proposal, l1, tuple(layout.shape[:2]), ess, n2,
                                 iterations, tolerance))
            if len(runs) in (1, repeats):  # the first repeat's refusal comes before the rest
                sums = torch.tensor([run[4] for run in runs], dtype=torch.float64).logsumexp(0)
                check_posterior(statistics.median(run[0] for run in runs),
                                math.sqrt(statistics.fmean(run[1] for run in runs)),
                                (float(sums[0]), float(sums[1]), len(runs) * n2), upper)
    values = tuple(run[0] for run in runs)
    estimate = BridgeEvidence(
        f"bridge-{chains * length}", statistics.median(values),
        math.sqrt(statistics.fmean(run[1] for run in runs)), int(x.shape[0]),
        max(run[2] for run in runs), all(run[3] for run in runs),
        statistics.fmean(run[1] for run in runs), ess, n1, n2, values)
    if not estimate.converged:
        warnings.warn(f"{estimate.name}: the fixed-point iteration has not reached a relative "
                      f"change of {tolerance:g} in {iterations} iterations; raise iterations "
                      "(or the tolerance)", EvidenceWarning, stacklevel=2)
    return estimate


def _latent_sites(nodes: dict[str, Any]) -> dict[str, Any]:
    """The model's latent sample sites by name; a discrete one is refused, saying what to use."""
    sites = {}
    for name, site in nodes.items():
        if site["type"] != "sample" or site["is_observed"] or site_is_subsample(site):
            continue
        fn = site["fn"]
        if hasattr(fn, "support") and fn.support.is_discrete:
            raise EvidenceError(f"the latent site {name!r} is discrete ({type(fn).__name__}): "
                                "bridge sampling bridges continuous latents only; "
                                "pvae.evidence sums out global discrete ones (or sum it out "
                                "in the model)")
        sites[name] = site
    if not sites:
        raise EvidenceError("this model has no latent site: its evidence is its likelihood; "
                            "use pvae.exact")
    return sites


def _chunked(latents: ModelLatents, count: int,
             fn: Callable[[torch.Tensor], torch.Tensor]) -> torch.Tensor:
    """``fn`` on every row index in chunks of the latents' chains (the last one padded)."""
    parts, size = [], latents.chains
    for start in range(0, count, size):
        index = torch.arange(start, start + size).clamp(max=count - 1)
        parts.append(fn(index)[:min(size, count - start)])
    return torch.cat(parts)


def _rows(latents: ModelLatents, sites: dict[str, Any],
          values: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Draws ``(chains, draws, *shape)`` of each site as rows laid out as under the chains.

    A site outside the model's plates has a singleton dimension per plate there.
    """
    rows = {}
    for name, value in values.items():
        plain = latents.transforms[name].inv(sites[name]["value"]).dim()
        ones = (1,) * (len(latents.shapes[name]) - 1 - plain)
        rows[name] = value.reshape(-1, *ones, *value.shape[2:])
    return rows


def _unconstrained(latents: ModelLatents, rows: dict[str, torch.Tensor]) -> torch.Tensor:
    """The rows as flat unconstrained vectors, ``(draws, D)`` in float64."""
    count = next(iter(rows.values())).shape[0]
    flat = _chunked(latents, count, lambda index: latents.flatten(
        {name: {"value": value[index]} for name, value in rows.items()}, "draws"))
    if not bool(torch.isfinite(flat).all()):
        raise ValueError("some draws lie on the edge of a site's support (a probability of "
                         "exactly 0 or 1, a scale of 0): pass draws of this model's posterior")
    return flat.double()


def _log_joint(latents: ModelLatents, u: torch.Tensor,
               rows: dict[str, torch.Tensor] | None = None) -> torch.Tensor:
    r""":math:`\log p(x, \theta) + \log \lvert \det J \rvert` at each row of ``u``, float64.

    :math:`\theta = T(u)`, or the draws ``rows`` themselves where given (posterior draws
    are scored as they are, not as the round trip :math:`T(T^{-1}(\theta))` rounds them).
    """
    def scored(index: torch.Tensor) -> torch.Tensor:
        values, log_jacobian = latents.constrained(u[index].to(latents.dtype))
        if rows is not None:
            values = {name: value[index] for name, value in rows.items()}
        given, rest = latents.log_densities(latents.model, values)
        return given + rest + log_jacobian

    return _chunked(latents, u.shape[0], scored).double()


def _proposal(fit: torch.Tensor) -> torch.distributions.MultivariateNormal:
    """The normal with the first half's mean and covariance."""
    count, size = fit.shape
    needed = max(2 * size, size + 2)  # fewer: too narrow a proposal, an estimate far off
    if count < needed:
        raise ValueError(f"the proposal's covariance needs at least {needed} draws for the "
                         f"{size} unconstrained dimensions (fewer give a biased estimate); the "
                         f"first half has {count}: draw more")
    covariance = torch.cov(fit.T).reshape(size, size)
    factor, info = torch.linalg.cholesky_ex(covariance)
    still = covariance.diagonal().sqrt() <= 1e-10 * (1 + fit.abs().amax(0))
    if int(info) != 0 or bool(still.any()):
        raise ValueError("the first half's draws do not vary in every direction (a singular "
                         "covariance in the unconstrained space: a stuck chain, or a site "
                         "that never moves); pass draws that explore the posterior")
    return torch.distributions.MultivariateNormal(fit.mean(0), scale_tril=factor)


def _bridged(latents: ModelLatents, proposal: torch.distributions.MultivariateNormal,
             l1: torch.Tensor, layout: tuple[int, ...], ess: float, n2: int, iterations: int,
             tolerance: float) -> tuple[float, float, int, bool, tuple[float, float]]:
    r"""One repeat: fresh draws, the iteration, its error; ``(value, RE², t, done, sums)``.

    ``sums`` are the logsumexp of :math:`\log \ell_2` and of :math:`2 \log \ell_2`.
    """
    u2 = proposal.sample((n2,))
    l2 = _log_joint(latents, u2) - proposal.log_prob(u2)
    if bool(torch.isnan(l2).any()):
        raise ValueError("the model's log-density is NaN at some proposal draws: check that "
                         "it is defined on the whole support of its latents")
    log_s1, log_s2 = math.log(ess / (ess + n2)), math.log(n2 / (ess + n2))
    log_r, steps, done = _iterated(l1, l2, log_s1, log_s2, iterations, tolerance)
    f1 = torch.exp(-torch.logaddexp(log_s1 + l1 - log_r, l1.new_tensor(log_s2)))
    f2 = torch.exp(l2 - log_r - torch.logaddexp(log_s1 + l2 - log_r, l2.new_tensor(log_s2)))
    tau = float(integrated_time(f1.reshape(*layout, 1))[0])
    relative = (float(f2.var() / f2.mean() ** 2) / n2
                + tau * float(f1.var() / f1.mean() ** 2) / l1.numel())
    return log_r, relative, steps, done, (float(l2.logsumexp(0)), float((2 * l2).logsumexp(0)))


def _iterated(l1: torch.Tensor, l2: torch.Tensor, log_s1: float, log_s2: float,
              iterations: int, tolerance: float) -> tuple[float, int, bool]:
    r"""The fixed point :math:`\log \hat r`, the iterations taken, and whether it converged.

    It runs about the median :math:`\log \ell_1`, where float64 resolves the tolerance.
    """
    shift, log_r, steps, done = float(l1.median()), 0.0, 0, False
    l1, l2 = l1 - shift, l2 - shift
    while not done and steps < iterations:
        below = torch.logaddexp(log_s1 + l1, l1.new_tensor(log_s2 + log_r))
        above = l2 - torch.logaddexp(log_s1 + l2, l2.new_tensor(log_s2 + log_r))
        new = float(torch.logsumexp(above, 0) - math.log(l2.numel())
                    - torch.logsumexp(-below, 0) + math.log(l1.numel()))
        if not math.isfinite(new):
            raise ValueError(f"the bridge estimate is {new}: the proposal and the posterior "
                             "draws do not overlap; pass draws of this model's posterior")
        done, log_r, steps = abs(math.expm1(new - log_r)) < tolerance, new, steps + 1
    return log_r + shift, steps, done
