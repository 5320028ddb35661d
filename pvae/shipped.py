"""The ready configs that ship inside the package: where they are, and what each is.

A module of its own, without torch, so that ``pvae configs`` lists them in a blink.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["SHIPPED", "shipped_configs"]

#: the ready configs that ship inside the package (``pvae configs`` lists them)
SHIPPED = Path(__file__).parent / "configs"


def shipped_configs() -> dict[str, str]:
    """The shipped configs by name, each with its first comment line as a description."""
    found = {}
    for path in sorted(SHIPPED.glob("*.toml")):
        first = path.read_text().splitlines()[0] if path.stat().st_size else ""
        found[path.stem] = first.lstrip("# ").strip()
    return found
