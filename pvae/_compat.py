"""Every private name of torch and Pyro that pvae uses, each with why no public API serves.

This is the one module that may touch a dependency's private names (``tests/test_compat.py``
counts them: at most 10, all here). Each use below says what it reads, why the public API
does not serve, and the versions it was checked on; an upgrade that breaks one breaks it
here, in one place, with the fallback each caller documents.

Checked on torch 2.14.1 and pyro-ppl 1.9.2 (and, where marked, on torch 2.8).
"""

from __future__ import annotations

from typing import Any

import torch
from pyro.infer import ELBO, Trace_ELBO
from pyro.params.param_store import ParamStoreDict

__all__ = ["ELBOWithTraces", "TracedELBO", "inductor_backend", "module_registries", "op_schema",
           "plain_twin", "pyro_declarations", "store_tensor"]


def store_tensor(store: ParamStoreDict, name: str) -> torch.Tensor | None:
    """The unconstrained tensor Pyro's param store keeps under ``name`` (None if none).

    Private: ``ParamStoreDict._params``. The public ``store[name]`` returns the
    *constrained* value (a new tensor each call for a constrained parameter) and
    ``named_parameters()`` walks the whole store; the lean ELBO needs one look-up by name,
    in microseconds, to see that a ``PyroModule``'s ``nn.Parameter`` is the store's own.
    """
    return store._params.get(name)


def module_registries(module: torch.nn.Module) -> tuple[dict[str, Any], dict[str, Any],
                                                          dict[str, Any]]:
    """The live dicts of ``module``'s own parameters, buffers and children (not copies).

    Private: ``nn.Module._parameters``, ``_buffers``, ``_modules``. The public
    ``named_parameters(recurse=False)``, ``named_buffers`` and ``named_children`` give
    snapshots; a plain-torch twin of a network (the VAE's closed form) must *share* them so
    an optimiser step, ``load_state_dict`` or ``.to(device)`` is seen at once, and a
    buffer replaced by a run must be put back where torch keeps it. Unchanged since torch 1.0.
    """
    state = vars(module)
    return state["_parameters"], state["_buffers"], state["_modules"]


def plain_twin(module: torch.nn.Module, kind: type, children: dict[str, Any]) -> Any:
    """A ``kind`` object sharing ``module``'s state (parameters, buffers, flags), with ``children``.

    The same private state as :func:`module_registries`: the twin's ``_modules`` is its own
    dict, every other entry of the module's ``__dict__`` is shared (a ``PyroModule``'s own
    entries too, which the plain class never reads). No public constructor makes a module
    that shares its registries with another.
    """
    twin: Any = object.__new__(kind)
    vars(twin).update(vars(module))
    vars(twin)["_modules"] = children
    return twin


def pyro_declarations(module: torch.nn.Module) -> tuple[dict[str, Any], dict[str, Any]]:
    """A ``PyroModule``'s declared ``PyroParam`` and ``PyroSample`` attributes, by name.

    Private: ``PyroModule._pyro_params``, ``_pyro_samples``. ``named_pyro_params`` gives the
    parameters' values but not their constraints, and nothing public lists the
    ``PyroSample`` attributes; pvae needs a constraint to write a constrained value in place
    and to know whether a network draws its own latents.
    """
    state = vars(module)
    return state.get("_pyro_params", {}), state.get("_pyro_samples", {})


def inductor_backend(mode: str | None) -> Any:
    """Inductor as a callable ``torch.compile`` backend, so a wrapper can count its graphs.

    Private: ``torch._TorchCompileInductorWrapper``. ``torch.compile(backend="inductor")``
    takes the backend by name only; the closed form counts the graphs it compiles (its
    ``compilations``) by wrapping the backend. On a torch without it the compiled ELBO falls
    back to the eager closed form, saying why (checked on torch 2.8 and 2.14).
    """
    return torch._TorchCompileInductorWrapper(mode, None, False)


def op_schema(target: Any) -> Any:
    """The schema of an ATen operator a ``torch.fx`` node calls, or None for anything else.

    Private: an ``OpOverload``'s ``_schema``. AIS's recorded potential reads each recorded
    operator's schema to refuse one that writes into its inputs (an in-place or ``out=``
    operation, which a replay would not repeat); ``torch.fx`` exposes no public view of an
    operator's aliasing annotations. (Python operators such as ``operator.getitem`` have no
    schema: None.)
    """
    return getattr(target, "_schema", None)


class TracedELBO(ELBO):
    """A Pyro ``ELBO`` whose traces come from :meth:`make_traces`, over its particles.

    Private: the override of ``ELBO._get_trace`` (Pyro's hook for one particle's traces) and
    the call of ``ELBO._get_traces`` (its loop over particles, vectorised or not, and its
    guess of the plates' nesting). No public API hands an ``ELBO`` subclass its particles'
    traces; writing the loop again would be a second copy of Pyro's.
    """

    def make_traces(self, model: Any, guide: Any, args: Any, kwargs: Any) -> Any:
        """One particle's (model trace, guide trace); a subclass writes its own."""
        raise NotImplementedError

    def traces(self, model: Any, guide: Any, args: Any, kwargs: Any) -> Any:
        """Every particle's (model trace, guide trace), as Pyro's ELBO iterates them."""
        return self._get_traces(model, guide, args, kwargs)

    def _get_trace(self, model: Any, guide: Any, args: Any, kwargs: Any) -> Any:
        return self.make_traces(model, guide, args, kwargs)


class ELBOWithTraces(Trace_ELBO):
    """``Trace_ELBO`` that hands the traces it scores to :meth:`traces_seen` (a hook).

    Private: the same override of ``Trace_ELBO._get_trace`` as :class:`TracedELBO`. The
    default ELBO judges whether a pair's structure is one its fast backends reproduce from
    the very traces Trace_ELBO scores on that call (so the call's random numbers are
    Trace_ELBO's, set-up draws of an autoguide included); ``pyro.infer.enum``'s
    ``get_importance_trace`` would run the program a second time.
    """

    def traces_seen(self, model_trace: Any, guide_trace: Any) -> None:
        """Called with each pair of traces this ELBO scores; nothing by default."""

    def _get_trace(self, model: Any, guide: Any, args: Any, kwargs: Any) -> Any:
        traces = super()._get_trace(model, guide, args, kwargs)
        self.traces_seen(*traces)
        return traces
