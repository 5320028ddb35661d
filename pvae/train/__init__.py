"""``pvae.fit`` and where it runs: the plan, the rules of every SVI step, the SVI and EM loops.

A fit checks its settings into a :class:`~pvae.train.plan.FitPlan`, which an engine
(:data:`~pvae.train.engines.engines`) runs under the step rules of
:mod:`~pvae.train.step`; divergence and convergence are judged on the way, and the
result and resumable state are values.
"""

from .convergence import ConvergenceWarning
from .divergence import DivergenceError, NonFiniteLossError, all_finite
from .engines import Engine, engines
from .fit import fit, resolve_device
from .options import DEFAULT_STEPS, DEFAULTS, FitOptions
from .plan import FitPlan
from .result import FitResult, History
from .state import TrainingState
from .step import OPTIMIZERS, Schedule, StepRules

#: the old name of :class:`StepRules` (it takes no step: it holds what every step obeys)
StepCore = StepRules

__all__ = [
    "DEFAULT_STEPS", "DEFAULTS", "OPTIMIZERS", "ConvergenceWarning", "DivergenceError", "Engine",
    "FitOptions", "FitPlan",
    "FitResult", "History", "NonFiniteLossError", "Schedule", "StepCore", "StepRules",
    "TrainingState",
    "engines", "fit", "resolve_device", "all_finite",
]
