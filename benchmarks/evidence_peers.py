"""The evidence of Bayesian models by pvae and by its peers, against the exact value.

Five models with an exact log evidence (``benchmarks/peers_models.py``: two conjugate models
of the test suite, a 12-d Gaussian mean, the centred eight schools, a 24-coefficient
regression), each estimated by four tools:

- **pvae AIS**: ``pvae.evidence`` (annealed importance sampling from the prior; its
  default is 1000 temperatures, 512 chains, and a convergence check at 250 temperatures);
- **pvae bridge**: ``pvae.bridge_sampling`` on the draws of ``pvae.mcmc`` (NUTS; default
  500 draws after 500 warm-up steps, 2 chains);
- **PyMC SMC**: ``pm.sample_smc`` (default 2000 particles, the IMH kernel), its log marginal
  likelihood averaged over the chains;
- **dynesty**: the static ``NestedSampler`` (default 500 live points, bound ``multi``,
  sampling ``auto``), ``logz[-1] ± logzerr[-1]``.

Each runs at its defaults, then at a matched budget: the same CPU seconds
(``time.process_time``; every tool on one thread, see ``benchmarks/run.py``) for every tool
on a model, reached by scaling the tool's size (temperatures, draws, particles, live points)
in proportion from its default run's cost, then from a pilot run's. Without PyMC or dynesty
the benchmark still runs, and its rows for the absent peer say how to install it
(``pip install -e '.[peers]'``).
"""

from __future__ import annotations

import logging
import math
import statistics
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pyro

import pvae

from .peers_models import MODELS, PeerModel
from .table import PlusMinus, Table

#: what a reader without the peers installs
INSTALL = "pip install -e '.[peers]'"


class Run(NamedTuple):
    """One estimate: value and own standard error (nats), CPU seconds, what else it said."""

    value: float
    stderr: float
    seconds: float
    calls: int  # likelihood evaluations where the tool counts them, else 0
    warned: frozenset[str]  # the warnings raised, each as its kind and first words
    failed: str = ""  # the error it raised instead of an estimate (value and stderr NaN)


@dataclass(frozen=True)
class Tool:
    """A way to estimate the evidence, sized by one number (its ``knob``)."""

    name: str
    knob: str
    default: int
    least: int
    estimate: Callable[[PeerModel, int, int], tuple[float, float, int]]
    missing: Callable[[], str | None]  # why it cannot run here, or None

    def run(self, model: PeerModel, size: int, seed: int) -> Run:
        """The tool's estimate at ``size``, timed in CPU seconds."""
        started, failed = time.process_time(), ""
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                value, stderr, calls = self.estimate(model, size, seed)
            except (ValueError, RuntimeError) as error:  # a tool that gives up: a result too
                value, stderr, calls = math.nan, math.nan, 0
                failed = _gist(type(error), str(error))
        seconds = time.process_time() - started
        said = frozenset(_gist(w.category, str(w.message)) for w in caught
                         if not issubclass(w.category, DeprecationWarning | FutureWarning))
        return Run(value, stderr, seconds, calls, said, failed)


def _gist(kind: type, message: str) -> str:
    """A warning's or an error's kind and its message's first words."""
    words = message.split()
    return f"{kind.__name__} '{' '.join(words[:8])}{' ...' * (len(words) > 8)}'"


def _absent(module: str) -> Callable[[], str | None]:
    def missing() -> str | None:
        try:
            __import__(module)
        except ImportError:
            return f"{module} is not installed: {INSTALL}"
        return None
    return missing


def _no_bridge() -> str | None:
    if hasattr(pvae, "bridge_sampling"):
        return None
    return "not available: this pvae has no pvae.bridge_sampling yet"


def _ais(model: PeerModel, steps: int, seed: int) -> tuple[float, float, int]:
    estimate = pvae.evidence(model.pyro, model.x, steps=steps, seed=seed, progress=False)
    return estimate.value, estimate.stderr, 0


def _bridge(model: PeerModel, draws: int, seed: int) -> tuple[float, float, int]:
    sampled = pvae.mcmc(model.pyro, model.x, num_samples=draws, warmup=draws, chains=2,
                        seed=seed)
    estimate = pvae.bridge_sampling(model.pyro, sampled, model.x, seed=seed)
    return estimate.value, estimate.stderr, 0


def _smc(model: PeerModel, draws: int, seed: int) -> tuple[float, float, int]:
    import pymc as pm
    logging.getLogger("pymc").setLevel(logging.ERROR)
    with model.pymc():
        trace = pm.sample_smc(draws=draws, chains=2, cores=1, random_seed=seed,
                              progressbar=False, compute_convergence_checks=False)
    # one row per chain, one column per stage; the last stage's is the chain's estimate
    stages = trace["sample_stats"]["log_marginal_likelihood"].values
    per_chain = np.array([float(stages[chain][-1]) for chain in range(len(stages))])
    spread = float(per_chain.std(ddof=1) / math.sqrt(len(per_chain)))
    return float(per_chain.mean()), spread, 0


def _dynesty(model: PeerModel, live: int, seed: int) -> tuple[float, float, int]:
    import dynesty
    sampler = dynesty.NestedSampler(model.log_likelihood, model.prior_transform, model.ndim,
                                    nlive=live, rstate=np.random.default_rng(seed))
    sampler.run_nested(print_progress=False)
    results = sampler.results
    return float(results.logz[-1]), float(results.logzerr[-1]), int(np.sum(results.ncall))


TOOLS = (Tool("pvae AIS", "temperatures", 1000, 8, _ais, lambda: None),
         Tool("pvae bridge", "draws (and as many warm-up) per chain", 500, 25, _bridge,
              _no_bridge),
         Tool("PyMC SMC", "particles per chain", 2000, 100, _smc, _absent("pymc")),
         Tool("dynesty", "live points", 500, 25, _dynesty, _absent("dynesty")))


class Plan(NamedTuple):
    """How much of everything one mode runs."""

    models: tuple[str, ...]
    budget: float  # CPU seconds a tool gets per run at the matched budget
    runs: int  # seeds at the matched budget, and at the defaults when they are cheap
    cheap: float  # CPU seconds under which a default run is repeated
    sizes: dict[str, int] | None  # the tiny mode's sizes instead of the defaults


FULL = Plan(tuple(MODELS), 5.0, 3, 15.0, None)
TINY = Plan(("normal mean",), 0.5, 1, 0.0,
            {"pvae AIS": 10, "pvae bridge": 50, "PyMC SMC": 100, "dynesty": 25})


def _row(table: Table, model: PeerModel, tool: Tool, setting: str, runs: list[Run]) -> None:
    done = [run for run in runs if not run.failed]
    errors = [run.value - model.exact for run in done]
    spread = (statistics.stdev(errors) / math.sqrt(len(errors)) if len(errors) > 1
              else float("nan"))
    covered = sum(abs(run.value - model.exact) <= 2 * run.stderr for run in done)
    remarks = [f"{statistics.fmean(run.calls for run in runs):.0f} likelihood calls"] * all(
        run.calls for run in runs)
    for said in sorted(frozenset().union(*(run.warned for run in runs))):
        remarks.append(f"{sum(said in run.warned for run in runs)}/{len(runs)} warned {said}")
    for said in sorted({run.failed for run in runs if run.failed}):
        remarks.append(f"{sum(run.failed == said for run in runs)}/{len(runs)} FAILED, "
                       f"no estimate: {said}")
    table.add(model=model.name, tool=tool.name, setting=setting, runs=len(runs), **{
        "error (nats)": (PlusMinus(statistics.fmean(errors), spread) if errors
                         else float("nan")),
        "own s.e.": statistics.fmean(run.stderr for run in done) if done else float("nan"),
        "exact in ±2σ": f"{covered}/{len(runs)}",
        "CPU s": statistics.fmean(run.seconds for run in runs),
        "note": "; ".join(remarks)})


def _absent_row(table: Table, model: PeerModel, tool: Tool, why: str) -> None:
    table.add(model=model.name, tool=tool.name, setting="—", runs=0, **{
        "error (nats)": float("nan"), "own s.e.": float("nan"), "exact in ±2σ": "—",
        "CPU s": float("nan"), "note": why})


#: the seed of the run that sizes a tool to the budget (not one of the table's runs)
PILOT_SEED = 1000


def _matched_size(tool: Tool, size: int, seconds: float, budget: float) -> int:
    """The size whose run should cost ``budget`` CPU seconds, costs taken proportional."""
    return max(tool.least, round(size * budget / max(seconds, 1e-3)))


def _sized(tool: Tool, model: PeerModel, default: Run, size: int, budget: float) -> int:
    """The tool's size for ``budget``: scaled from its default run, then from a pilot run.

    The pilot corrects what the default run's cost misleads about: PyMC's first compilation
    of the model, and any cost that does not grow with the size.
    """
    size = _matched_size(tool, size, default.seconds, budget)
    pilot = tool.run(model, size, PILOT_SEED)
    return _matched_size(tool, size, pilot.seconds, budget)


def _compare(table: Table, model: PeerModel, plan: Plan, verdicts: list[str]) -> None:
    matched: dict[str, list[Run]] = {}
    for tool in TOOLS:
        why = tool.missing()
        if why is not None:
            _absent_row(table, model, tool, why)
            continue
        pyro.clear_param_store()
        size = tool.default if plan.sizes is None else plan.sizes[tool.name]
        runs = [tool.run(model, size, 0)]
        if runs[0].seconds < plan.cheap:
            runs += [tool.run(model, size, seed) for seed in range(1, plan.runs)]
        _row(table, model, tool, f"{'default' if plan.sizes is None else 'tiny'}: "
             f"{size} {tool.knob}", runs)
        size = _sized(tool, model, runs[0], size, plan.budget)
        matched[tool.name] = [tool.run(model, size, seed) for seed in range(plan.runs)]
        _row(table, model, tool, f"{plan.budget:g} CPU s: {size} {tool.knob}",
             matched[tool.name])
    verdicts.append(_verdict(model, matched, plan.budget))


def _verdict(model: PeerModel, matched: dict[str, list[Run]], budget: float) -> str:
    """Which tool came closest at the matched budget, in words."""
    def rms(runs: list[Run]) -> float:  # a run that failed counts as infinitely far
        if any(run.failed for run in runs):
            return math.inf
        return math.sqrt(statistics.fmean((run.value - model.exact) ** 2 for run in runs))

    ranked = sorted(matched, key=lambda name: rms(matched[name]))
    def shown(name: str) -> str:
        error = rms(matched[name])
        return f"{name} {error:.3f}" if math.isfinite(error) else f"{name} (a run failed)"

    said = ", ".join(shown(name) for name in ranked)
    honest = [name for name in ranked if all(
        abs(run.value - model.exact) <= 2 * run.stderr for run in matched[name])]
    ours = [name for name in ranked if name.startswith("pvae")]
    peers = [name for name in ranked if not name.startswith("pvae")]
    if ours and peers:
        better = rms(matched[peers[0]]) < rms(matched[ours[0]])
        winner, loser = (peers[0], ours[0]) if better else (ours[0], peers[0])
        outcome = (f"{'a peer beats pvae' if better else 'pvae beats its peers'}: "
                   f"{shown(winner)} against {shown(loser)}")
    else:
        outcome = f"best {ranked[0]}" if ranked else "no tool ran"
    return (f"{model.name} (exact {model.exact:.4f}; {model.note}): at {budget:g} CPU s, "
            f"root-mean-square error {said} nats; {outcome}. Exact inside every run's ±2σ "
            f"interval: {', '.join(honest) or 'none'}.")


def run(tiny: bool) -> Table:
    """Every tool on every model, at its defaults and at the matched budget."""
    plan = TINY if tiny else FULL
    table = Table("evidence_peers", "The evidence by pvae and its peers (PyMC SMC, dynesty), "
                  "against the exact value",
                  ["model", "tool", "setting", "runs", "error (nats)", "own s.e.",
                   "exact in ±2σ", "CPU s", "note"])
    verdicts: list[str] = []
    for name in plan.models:
        _compare(table, MODELS[name], plan, verdicts)
    versions = []
    for module in ("pymc", "pytensor", "dynesty"):
        try:
            versions.append(f"{module} {__import__(module).__version__}")
        except ImportError:
            versions.append(f"{module} not installed ({INSTALL})")
    table.notes += [
        "Error: the estimate minus the exact log evidence (nats for the whole data set), "
        "mean ± standard error over the runs (seeds 0, 1, ...; one run has no standard "
        "error); own s.e.: the tool's own standard error, averaged over the runs; exact in "
        "±2σ: the runs whose own ±2 s.e. interval holds the exact value. CPU s: "
        "time.process_time of the whole call (model building, PyMC's compilation, "
        "sampling), averaged over the runs; every tool runs on one thread "
        "(OMP_NUM_THREADS=1, set by benchmarks/run.py), so CPU seconds are seconds on one "
        "core.",
        f"Runs: {plan.runs} seeds at the matched budget; at the defaults as many when one "
        f"run costs under {plan.cheap:g} CPU s, else one (the defaults of the larger models "
        "cost minutes a run).",
        "Matched budget: equal CPU seconds. Each tool's size is scaled in proportion from "
        "its default run's cost, then once more from a pilot run at that size (its own "
        f"seed, {PILOT_SEED}, not in the table), with a floor (8 temperatures, 25 draws, "
        "100 particles, 25 live points) below which a run costs more than the budget; the "
        "CPU s column says what each took.",
        "pvae AIS: pvae.evidence at 512 chains with its convergence check (a run at a "
        "quarter of the temperatures, in the CPU seconds). A note 'warned' names the "
        "warnings a tool raised (pvae's EvidenceWarning: AIS says it has not converged, or "
        "its weights collapsed). pvae bridge: pvae.mcmc (2 chains, draws = warm-up) then "
        "pvae.bridge_sampling. PyMC SMC: pm.sample_smc with 2 chains (its default on 2 "
        "cores) run in this process (cores=1) so that their CPU time is counted, "
        "compute_convergence_checks=False (R-hat and ESS, not wanted here); the estimate is "
        "the chains' mean, its own s.e. their spread over the square root of their number "
        "(one degree of freedom: a rough error). dynesty: NestedSampler's defaults "
        "(bound 'multi', sample 'auto', dlogz 0.01 + 0.001 (nlive - 1)), NumPy "
        "log-likelihoods, one process.",
        f"Versions: {', '.join(versions)}. PyMC compiles each model on first use "
        "(PyTensor's default compile cache, outside the output folder); a cold cache adds "
        "seconds to the first run of a model.",
        *verdicts,
    ]
    return table
