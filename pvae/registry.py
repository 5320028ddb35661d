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
import inspect
from collections.abc import Callable, Iterator, Mapping
from typing import Any

__all__ = ["Registry", "UnknownNameError"]


class UnknownNameError(ValueError):
    """A name, or a key of a spec dict, that a registry does not know."""


def _closest(word: str, choices: list[str]) -> str:
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
        if isinstance(spec, str):
            return self._build(spec, {})
        if isinstance(spec, Mapping):
            if "name" not in spec:
                raise UnknownNameError(
                    f"a {self.kind} spec dict needs a 'name' key; got keys {sorted(spec)}. "
                    f"Known {self.kind} names: {', '.join(self.names())}."
                )
            options = {key: value for key, value in spec.items() if key != "name"}
            return self._build(spec["name"], options)
        raise TypeError(
            f"a {self.kind} must be a name, a spec dict or a {self.base.__name__}; "
            f"got {type(spec).__name__}"
        )

    def _build(self, name: str, options: dict[str, Any]) -> Any:
        if name not in self._factories:
            raise UnknownNameError(
                f"unknown {self.kind} {name!r}.{_closest(name, self.names())} "
                f"Known {self.kind} names: {', '.join(self.names())}."
            )
        factory = self._factories[name]
        accepted = [
            p.name
            for p in inspect.signature(factory).parameters.values()
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        ]
        for key in options:
            if key not in accepted:
                raise UnknownNameError(
                    f"the {self.kind} {name!r} has no option {key!r}.{_closest(key, accepted)} "
                    f"Its options: {', '.join(accepted) or '(none)'}."
                )
        return factory(**options)
