"""pvae: maximum likelihood, the ELBO and VAEs as Pyro model/guide pairs.

Every model is a Pyro model/guide pair: import it, fit it with :func:`fit` (or with plain
``pyro.infer.SVI``), and score it on held-out data. The public names are listed once, in
``__init__.pyi`` beside this file, each with the module it lives in (:mod:`pvae.models`,
:mod:`pvae.train`, :mod:`pvae.estimate`, :mod:`pvae.posterior`, :mod:`pvae.pair`,
:mod:`pvae.objectives`, ...); so are the registries (``pvae.priors.priors``,
``pvae.train.engines.engines``, ...) and :class:`pvae.registry.Registry` in theirs.

That stub is read twice: by type checkers, as the package's interface, and here, by
``lazy_loader.attach_stub`` (the scientific-Python way, SPEC 1), which derives ``__all__``
and imports each name from its module when first used, so that ``import pvae`` (and the
``pvae`` command's ``--help``) does not load torch, Pyro and ArviZ before they are needed.
A subpackage (``pvae.priors``, ...) is imported the same way, on first use; an old name in
:data:`RENAMED` still answers, for one release, with a ``DeprecationWarning``.
"""

from __future__ import annotations

import importlib
import warnings
from typing import Any

import lazy_loader

__version__ = "0.1.0"

_public, _, __all__ = lazy_loader.attach_stub(__name__, __file__)
#: old public names, kept for one release: each answers with its new name, and warns
RENAMED = {"LeanTrace_ELBO": "CheckedTrace_ELBO"}


def __getattr__(name: str) -> Any:
    """A public name (from ``__init__.pyi``), or a subpackage, imported on first use."""
    if name in __all__:
        return _public(name)
    if name in RENAMED:
        warnings.warn(f"pvae.{name} is now pvae.{RENAMED[name]}; the old name goes in the "
                      "next release", DeprecationWarning, stacklevel=2)
        return _public(RENAMED[name])
    try:
        return importlib.import_module(f"{__name__}.{name}")
    except ModuleNotFoundError as error:
        if error.name != f"{__name__}.{name}":
            raise
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
