"""Deprecated: the names of ``pvae.infer``, kept for one release.

``pvae.infer`` held four concepts; they live in packages of their own now:
:mod:`pvae.pair` (what a pair is and how pvae reads it), :mod:`pvae.train` (``fit`` and where
it runs), :mod:`pvae.estimate` (likelihood estimates and diagnostics) and :mod:`pvae.posterior`.
Every name (and every module, as ``pvae.infer.<module>``) still imports from here; new code
imports from the new packages.
"""

import importlib
import sys

from ..bayes import *  # noqa: F403
from ..bayes import __all__ as _bayes
from ..estimate import *  # noqa: F403
from ..estimate import __all__ as _estimate
from ..pair import Pair, PairError, true_objective  # noqa: F401
from ..posterior import mcmc, pointwise_log_likelihood  # noqa: F401
from ..train import *  # noqa: F403
from ..train import __all__ as _train

#: the old module names and where each lives now
MOVED = {
    "protocol": "pair.protocol", "joint": "pair.traces", "terms": "pair.terms",
    "minibatch": "pair.minibatch", "estimators": "estimate.importance",
    "ais": "estimate.ais", "bdmc": "estimate.bdmc", "gaps": "estimate.gaps",
    "usage": "estimate.usage", "holes": "estimate.holes", "compare": "estimate.compare",
    "mcmc": "posterior", "fit": "train.fit", "options": "train.options", "plan": "train.plan",
    "schedule": "train.step", "svi": "train.svi", "em": "train.em",
    "engine": "train.engines.local", "divergence": "train.divergence",
    "convergence": "train.convergence", "state": "train.state", "result": "train.result",
}
for _old, _new in MOVED.items():
    sys.modules[f"{__name__}.{_old}"] = importlib.import_module(f"pvae.{_new}")

__all__ = sorted({*_bayes, *_estimate, *_train, "Pair", "PairError", "mcmc",
                  "pointwise_log_likelihood", "true_objective"})
