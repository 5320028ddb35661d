"""How a result prints: its numbers in a few lines, its per-datapoint tensors summarised.

Every result pvae returns (an estimate, a fit, a comparison, ...) is a dataclass or a
NamedTuple decorated with :func:`summarised`, which makes :func:`short_repr` its ``repr``:
one line per field, a tensor shown as ``tensor(shape=(300,), mean=-22.1)``, a long list as
its length and its ends, a result inside a result on one line with its numbers only. The
tensors stay attributes, whole::

    Estimate(
        name='iwae-10',
        value=-22.1043,
        stderr=0.0812345,
        per_datapoint=tensor(shape=(300,), mean=-22.1),
        num_samples=10,
        unit='nats per datapoint',
    )
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

import torch

__all__ = ["one_line", "short_repr", "summarised"]

Result = TypeVar("Result", bound=type)

#: items of a sequence, or entries of a dict, shown before the rest is counted
SHOWN = 4
#: results of a tuple of results shown one per line before the rest is counted
SHOWN_ROWS = 6
#: characters of a string shown before it is cut
SHOWN_CHARACTERS = 120
#: the properties each result class shows after its fields (see :func:`summarised`)
_ALSO: dict[type, tuple[str, ...]] = {}


def summarised(*also: str) -> Callable[[Result], Result]:
    """Class decorator: the result class prints with :func:`short_repr`.

    ``also`` names properties worth a line after the fields (a sandwich's ``width``); they
    are shown where the result stands inside another too. Put it above ``@dataclass``, and
    on a subclass as well (``dataclass`` writes a ``repr`` of its own for each class).
    """
    def decorate(cls: Result) -> Result:
        _ALSO[cls] = also
        setattr(cls, "__repr__", short_repr)  # noqa: B010 - a method the type checker allows
        return cls

    return decorate


#: result classes shown, inside another result, by their own one-line ``repr``
_ONE_LINE: set[type] = set()


def one_line[C: type](cls: C) -> C:
    """Class decorator: inside another result, ``cls`` shows its own one-line ``repr``."""
    _ONE_LINE.add(cls)
    return cls


def short_repr(result: Any) -> str:
    """``result`` (a dataclass or a NamedTuple) in a few lines: what ``repr`` should show.

    Parameters
    ----------
    result : dataclass or NamedTuple instance
        The result; each of its fields is one line, and so is each property its class
        names in :func:`summarised`.

    Returns
    -------
    str
        ``Name(`` and a line per field, numbers in full, tensors and long lists summarised,
        a tuple of results one per line.
    """
    lines = [f"{type(result).__name__}("]
    for name, value in _fields(result, properties=True):
        if isinstance(value, list | tuple) and not _is_result(value) and value and \
                all(map(_is_result, value)):  # a tuple of results: one per line
            rows = [f"        {_inline(item)}," for item in value[:SHOWN_ROWS]]
            more = len(value) - SHOWN_ROWS
            rows += [f"        ... ({more} more)"] if more > 0 else []
            opening, closing = ("[", "]") if isinstance(value, list) else ("(", ")")
            lines += [f"    {name}={opening}", *rows, f"    {closing},"]
        else:
            lines.append(f"    {name}={_inline(value)},")
    return "\n".join([*lines, ")"])


def _is_result(value: Any) -> bool:
    """Whether ``value`` is a dataclass instance or a NamedTuple."""
    return (dataclasses.is_dataclass(value) and not isinstance(value, type)) or (
        isinstance(value, tuple) and hasattr(value, "_fields"))


def _fields(result: Any, *, properties: bool = False) -> Iterator[tuple[str, Any]]:
    """The fields by name, then (with ``properties``) the properties its class shows."""
    if dataclasses.is_dataclass(result):
        for field in dataclasses.fields(result):
            if field.repr:
                yield field.name, getattr(result, field.name)
    elif hasattr(result, "_fields"):
        yield from zip(result._fields, result, strict=True)
    else:
        raise TypeError(f"short_repr shows a dataclass or a NamedTuple; got "
                        f"{type(result).__name__}")
    if properties:
        for name in _ALSO.get(type(result), ()):
            try:
                yield name, getattr(result, name)
            except (ArithmeticError, IndexError, ValueError):  # (a final loss of no losses)
                continue


def _defaults(result: Any) -> dict[str, Any]:
    """The default of each field that has one."""
    if dataclasses.is_dataclass(result):
        found = {}
        for field in dataclasses.fields(result):
            if field.default is not dataclasses.MISSING:
                found[field.name] = field.default
            elif field.default_factory is not dataclasses.MISSING:
                found[field.name] = field.default_factory()
        return found
    return dict(getattr(result, "_field_defaults", {}))


def _is_plain(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def _nested(result: Any) -> str:
    """A result inside a result, on one line.

    Its fields that are not at their defaults; only the plain ones (numbers, names) when it
    has some: its tensors are a level down, as attributes.
    """
    defaults = _defaults(result)
    shown = [(name, value) for name, value in _fields(result, properties=True)
             if not (name in defaults and _equal(value, defaults[name]))]
    if any(_is_plain(value) for _, value in shown):
        shown = [(name, value) for name, value in shown if _is_plain(value)]
    inner = ", ".join(f"{name}={_inline(value)}" for name, value in shown)
    return f"{type(result).__name__}({inner})"


def _equal(value: Any, default: Any) -> bool:
    if isinstance(value, torch.Tensor) or isinstance(default, torch.Tensor):
        return False
    try:
        return bool(value == default)
    except Exception:  # noqa: BLE001 - a comparison that cannot be made is no match
        return False


def _inline(value: Any) -> str:
    """``value`` on one short line."""
    if isinstance(value, torch.Tensor):
        return _tensor(value)
    if type(value) in _ONE_LINE:  # a result that says it best itself
        return repr(value)
    if _is_result(value):
        return _nested(value)
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, str):
        return repr(value if len(value) <= SHOWN_CHARACTERS
                    else value[:SHOWN_CHARACTERS] + "...")
    if isinstance(value, Mapping):
        entries = [f"{key!r}: {_inline(item)}" for key, item in list(value.items())[:SHOWN]]
        more = len(value) - SHOWN
        return "{" + ", ".join(entries + ([f"... ({more} more)"] if more > 0 else [])) + "}"
    if isinstance(value, list | tuple):
        return _sequence(value)
    return repr(value)


def _sequence(values: Sequence[Any]) -> str:
    opening, closing = ("[", "]") if isinstance(values, list) else ("(", ")")
    if len(values) <= SHOWN:
        return opening + ", ".join(map(_inline, values)) + closing
    if all(isinstance(item, int | float) for item in values):
        return (f"{opening}{len(values)} values, first {_inline(values[0])}, last "
                f"{_inline(values[-1])}{closing}")
    shown = ", ".join(map(_inline, values[:SHOWN - 1]))
    return f"{opening}{shown}, ... ({len(values)} in all){closing}"


def _tensor(value: torch.Tensor) -> str:
    """``tensor(shape=(300,), mean=-22.1)``; a tensor of at most 4 numbers in full."""
    value = value.detach()
    if value.numel() <= SHOWN and value.dim() <= 1 and value.device.type != "meta":
        return f"tensor({_sequence(value.tolist()) if value.dim() else _inline(value.item())})"
    shape = tuple(value.shape)
    kind = "" if value.is_floating_point() else f", dtype={value.dtype}"
    if value.numel() == 0 or value.device.type == "meta" or value.is_complex():
        return f"tensor(shape={shape}{kind})"
    if value.dtype == torch.bool:
        return f"tensor(shape={shape}{kind}, true={int(value.sum())})"
    mean = float(value.double().mean())
    return f"tensor(shape={shape}{kind}, mean={mean:.4g})" if math.isfinite(mean) else \
        f"tensor(shape={shape}{kind}, mean={mean})"
