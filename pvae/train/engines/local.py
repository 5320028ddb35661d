"""pvae's own engine: the checked plan run on one device, SVI or EM, with restarts."""

from __future__ import annotations

import copy
import time
from typing import Any

from ...pair import exact_log_likelihood
from ...progress import progress_bar
from ...registry import Registry
from ..em import run_em
from ..plan import FitPlan
from ..result import FitResult
from ..svi import run_svi

__all__ = ["Engine", "LocalEngine", "engines"]


class Engine:
    """Base class: runs a :class:`FitPlan` on a pair and returns a :class:`FitResult`."""

    #: the name the engine is registered under
    name = "engine"

    def refuses(self, plan: FitPlan) -> list[str]:
        """The ``fit`` settings in ``plan`` that this engine cannot honour (empty: none)."""
        return []

    def run(self, pair: Any, plan: FitPlan) -> FitResult:
        """Fit ``pair`` as ``plan`` says."""
        raise NotImplementedError


engines = Registry("engine", Engine)


@engines.register("pvae")
class LocalEngine(Engine):
    """pvae's own loop on one device: SVI or EM, with restarts, resumption and a time limit."""

    name = "pvae"

    def run(self, pair: Any, plan: FitPlan) -> FitResult:  # noqa: D102
        started = time.perf_counter()
        best: tuple[float, FitResult, dict[str, Any] | None] | None = None
        restart_losses: list[float] = []
        for restart in range(plan.options.n_init):
            plan.start(pair, restart)
            label = f"{plan.options.method} fit" + (f" {restart + 1}/{plan.options.n_init}"
                                            if plan.options.n_init > 1 else "")
            # off a terminal: a line per epoch (an EM iteration is an epoch)
            every = plan.per_epoch if plan.options.method == "svi" else 1
            with progress_bar(plan.total, label, show=plan.options.progress, every=every,
                              unit="step") as bar:
                result = self._once(pair, plan, bar)
            scorer = exact_log_likelihood(pair)
            if plan.options.n_init > 1 and scorer is not None:  # compare restarts at their end
                score = -float(scorer(plan.x).mean())
            else:
                score = result.losses[-1]
            restart_losses.append(score)
            if best is None or score < best[0]:
                state = copy.deepcopy(pair.state_dict()) if plan.options.n_init > 1 else None
                best = (score, result, state)
        assert best is not None
        if best[2] is not None:
            pair.load_state_dict(best[2])
        return FitResult(losses=best[1].losses, method=plan.options.method,
                         num_data=plan.x.shape[0], converged=best[1].converged,
                         seconds=time.perf_counter() - started, device=str(plan.device),
                         restart_losses=restart_losses, history=best[1].history,
                         stopped_early=best[1].stopped_early)

    @staticmethod
    def _once(pair: Any, plan: FitPlan, bar: Any) -> FitResult:
        if plan.options.method == "em":
            losses, converged = run_em(pair, plan.x, max_iter=plan.options.max_iter,
                                       tol=plan.options.tol, bar=bar,
                                       time_limit=plan.options.time_limit)
            return FitResult(losses, "em", plan.x.shape[0], converged, 0.0, str(plan.device))
        core = plan.core(pair)
        losses, stopped = run_svi(pair, plan, core, bar)
        return FitResult(losses, "svi", plan.x.shape[0], None, 0.0, str(plan.device),
                         history=core.history, stopped_early=stopped)
