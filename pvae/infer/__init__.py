"""Deprecated: the names of ``pvae.infer``, kept for one release; importing it warns.

``pvae.infer`` held four concepts; they live in packages of their own now:
:mod:`pvae.pair` (what a pair is and how pvae reads it), :mod:`pvae.train` (``fit`` and where
it runs), :mod:`pvae.estimate` (likelihood estimates and diagnostics), :mod:`pvae.bayes` (the
evidence of Bayesian models) and :mod:`pvae.posterior` (``mcmc``). Every name, and every old
module as ``pvae.infer.<module>``, still imports from here, each on first use (importing
``pvae.infer`` loads nothing else); new code imports from :mod:`pvae` or from the new packages.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import warnings
from collections.abc import Sequence
from types import ModuleType
from typing import Any

warnings.warn(
    "pvae.infer is deprecated and goes in the next release: import from pvae (pvae.fit, "
    "pvae.elbo, pvae.mcmc, ...) or from pvae.pair, pvae.train, pvae.estimate, pvae.bayes "
    "and pvae.posterior", DeprecationWarning, skip_file_prefixes=("<frozen importlib",))

#: the packages that took over the names of pvae.infer, searched in this order
PACKAGES = ("pair", "train", "estimate", "bayes", "posterior")

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


def _moved(old: str) -> ModuleType:
    return importlib.import_module(f"pvae.{MOVED[old]}")


def __getattr__(name: str) -> Any:
    """An old name of ``pvae.infer`` (else an old module), from where it lives now."""
    packages = [importlib.import_module(f"pvae.{package}") for package in PACKAGES]
    if name == "__all__":
        return sorted({name for package in packages for name in package.__all__})
    for package in packages:
        if name in package.__all__:  # pvae.infer.fit was the function, as it was before
            return getattr(package, name)
    if name in MOVED:
        return _moved(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class _OldModules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """``import pvae.infer.<old module>``: the moved module itself, under its old name."""

    def find_spec(self, fullname: str, path: Sequence[str] | None = None,
                  target: ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        package, _, old = fullname.rpartition(".")
        if package != __name__ or old not in MOVED:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        module = _moved(spec.name.rpartition(".")[2])
        spec.loader_state = module.__spec__  # the import system sets the old name's spec on it
        return module

    def exec_module(self, module: ModuleType) -> None:
        alias = module.__spec__
        if alias is not None:
            module.__spec__ = alias.loader_state  # it stays the module it is


if not any(type(finder).__module__ == __name__ for finder in sys.meta_path):
    sys.meta_path.append(_OldModules())
