"""The one name -> class mechanism shared by priors, likelihoods and guides.

A :class:`Registry` maps short names to factories. A part is resolved exactly once, from
one of three spellings:

* a name, ``"student_t"``;
* a spec dict, ``{"name": "student_t", "df": 3.0}`` (the other keys become keyword
  arguments, and an unknown one is an error that lists the accepted ones);
* an object that is already a part, which is returned unchanged.

Model code never branches on the name: it asks the registry once and uses the object.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from .signatures import signature_of

__all__ = ["Registry", "UnknownNameError", "closest", "merge_spec", "remember_spec", "spec_of"]

_SPEC = "_pvae_spec"


class UnknownNameError(ValueError):
    """A name, or a key of a spec dict, that a registry does not know."""


def closest(word: str, choices: list[str]) -> str:
    """' Did you mean ...?' naming the choice closest to ``word``, or an empty string."""
    match = difflib.get_close_matches(word, choices, n=1)
    return f" Did you mean {match[0]!r}?" if match else ""


class Registry:
    """Names mapped to factories of one kind of part.

    Parameters
    ----------
    kind : str
        What the registry holds ("prior", "likelihood", ...); used in error messages.
    base : type
        The class every part is an instance of; an object of this type resolves to itself.
    """

    def __init__(self, kind: str, base: type) -> None:
        self.kind = kind
        self.base = base
        self._factories: dict[str, Callable[..., Any]] = {}

    def register(self, name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Return a decorator that records a factory under ``name``."""

        def decorate(factory: Callable[..., Any]) -> Callable[..., Any]:
            if name in self._factories:
                raise ValueError(f"the {self.kind} name {name!r} is registered twice")
            self._factories[name] = factory
            return factory

        return decorate

    def names(self) -> list[str]:
        """The registered names, sorted."""
        return sorted(self._factories)

    def factory(self, name: str) -> Callable[..., Any]:
        """The factory registered under ``name``."""
        return self._factories[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __contains__(self, name: object) -> bool:
        return name in self._factories

    def resolve(self, spec: Any) -> Any:
        """Turn a name, a spec dict or a ready object into a part.

        Raises
        ------
        UnknownNameError
            For an unknown name or an unknown keyword in a spec dict; the message lists
            what is known and suggests the closest match.
        TypeError
            For anything that is neither a string, a mapping nor a part.
        """
        if isinstance(spec, self.base):
            return spec
        return self._build(*self._split(spec))

    def check(self, spec: Any) -> None:
        """Check a name or spec dict as :meth:`resolve` would, without building anything.

        Raises what :meth:`resolve` raises for an unknown name or option, and
        ``TypeError`` for a required option that is missing.
        """
        if isinstance(spec, self.base):
            return
        name, options = self._split(spec)
        signature = signature_of(self._accepting(name, options))
        try:
            signature.bind(**options)
        except TypeError as error:
            raise TypeError(f"the {self.kind} {name!r}: {error}") from None

    def _split(self, spec: Any) -> tuple[str, dict[str, Any]]:
        if isinstance(spec, str):
            return spec, {}
        if isinstance(spec, Mapping):
            if "name" not in spec:
                raise UnknownNameError(
                    f"a {self.kind} spec dict needs a 'name' key; got keys {sorted(spec)}. "
                    f"Known {self.kind} names: {', '.join(self.names())}."
                )
            return spec["name"], {key: value for key, value in spec.items() if key != "name"}
        raise TypeError(
            f"a {self.kind} must be a name, a spec dict or a {self.base.__name__}; "
            f"got {type(spec).__name__}"
        )

    def _accepting(self, name: Any, options: dict[str, Any]) -> Callable[..., Any]:
        """The factory for ``name``, after checking that it takes every option given."""
        if not isinstance(name, str) or name not in self._factories:
            raise UnknownNameError(
                f"unknown {self.kind} {name!r}.{closest(str(name), self.names())} "
                f"Known {self.kind} names: {', '.join(self.names())}."
            )
        factory = self._factories[name]
        accepted = [
            p.name
            for p in signature_of(factory).parameters.values()
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        ]
        for key in options:
            if key not in accepted:
                raise UnknownNameError(
                    f"the {self.kind} {name!r} has no option {key!r}.{closest(key, accepted)} "
                    f"Its options: {', '.join(accepted) or '(none)'}."
                )
        return factory

    def _build(self, name: str, options: dict[str, Any]) -> Any:
        factory = self._accepting(name, options)
        part = factory(**options)
        try:  # remembered so that a built object can be written back as a spec
            remember_spec(part, name, **options)
        except AttributeError:  # objects without a __dict__ simply have no spec
            pass
        return part


def spec_of(part: Any) -> str | dict[str, Any]:
    """The spec a part (or a model) was built from: ``resolve(spec_of(p))`` rebuilds it.

    Parts built by a registry, and pvae's models, remember their spec; an object built by
    hand does not, and cannot be written to a config.

    Raises
    ------
    ValueError
        When ``part`` was not built from a name or a spec dict.
    """
    if isinstance(part, str):
        return part
    if isinstance(part, Mapping):
        return dict(part)
    spec = getattr(part, _SPEC, None)
    if spec is None:
        raise ValueError(
            f"this {type(part).__name__} was built by hand, not from a name or spec dict, so "
            "it cannot be written to a config; build it by name (e.g. prior='vamp' or "
            "prior={'name': 'mog', 'components': 20})"
        )
    written = {key: _plain(value) for key, value in spec.items()}
    return written["name"] if len(written) == 1 else written


def _plain(value: Any) -> Any:
    """A spec value as TOML can hold it: scalars, lists, tables, and parts as their specs."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    return spec_of(value)


def remember_spec(part: Any, name: str, **options: Any) -> None:
    """Record how ``part`` was built (models call this from ``__init__``)."""
    setattr(part, _SPEC, {"name": name, **options})


def merge_spec(spec: Any, options: Mapping[str, Any]) -> str | dict[str, Any]:
    """``spec`` (a name or a spec dict) with ``options`` laid over it.

    ``merge_spec("lightning", {"devices": 2}) == {"name": "lightning", "devices": 2}``. A
    ``"name"`` among the options that differs from the spec's names another part, and the
    spec's settings (which were for that other part) are dropped. A spec left with only its
    name is returned as that name.
    """
    base = {"name": spec} if isinstance(spec, str) else dict(spec)
    if "name" in options and options["name"] != base.get("name"):
        base = {}
    merged = {**base, **options}
    return merged["name"] if set(merged) == {"name"} else merged
