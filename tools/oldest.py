"""The oldest versions pvae allows: ``python tools/oldest.py pins|versions``.

``pins`` prints one requirement per line for ``make lock-oldest``: each core dependency of
``pyproject.toml`` at its lower bound (``torch>=2.6`` becomes ``torch==2.6``), and the test
tools at the versions ``requirements.lock`` holds (the suite is the same; only the numerical
stack is old). ``versions`` prints the versions of the core dependencies installed in the
running interpreter, the line CI shows before the oldest job's tests.

Lower bounds follow SPEC 0 (https://scientific-python.org/specs/spec-0000/): a release of
the last two years is supported where the code allows; the test of the lock
(``tests/test_packaging.py``) keeps the two files in step.
"""

from __future__ import annotations

import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: the test tools the oldest job needs, taken at requirements.lock's versions
TEST_TOOLS = ("pytest", "pytest-xdist", "hypothesis")


def lower_bounds(pyproject: Path = ROOT / "pyproject.toml") -> dict[str, str]:
    """Each core dependency's name and its lower bound (``>=``), in pyproject's order."""
    dependencies = tomllib.loads(pyproject.read_text())["project"]["dependencies"]
    bounds = {}
    for requirement in dependencies:
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)(?:\[[^]]*\])?\s*>=\s*([0-9][^,;\s]*)\s*",
                             requirement)
        if match is None:
            raise ValueError(f"pyproject.toml: {requirement!r} has no lower bound of the form "
                             "'name>=version'; give it one")
        bounds[canonical(match[1])] = match[2]
    return bounds


def pinned(lock: Path) -> dict[str, str]:
    """The ``name==version`` lines of a lock file, by canonical name."""
    pins = {}
    for line in lock.read_text().splitlines():
        name, sep, version = line.partition("==")
        if sep and not line.startswith("#"):
            pins[canonical(name)] = version.strip()
    return pins


def canonical(name: str) -> str:
    """A distribution's name as pip compares it (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def main(argv: list[str]) -> int:
    """``pins`` or ``versions`` (see the module's text); anything else prints the usage."""
    if argv == ["pins"]:
        tools = pinned(ROOT / "requirements.lock")
        for name, version in lower_bounds().items():
            print(f"{name}=={version}")
        for name in TEST_TOOLS:
            print(f"{name}=={tools[name]}")
        return 0
    if argv == ["versions"]:
        print("oldest allowed versions:", ", ".join(
            f"{name} {metadata.version(name)}" for name in lower_bounds()),
            f"(Python {sys.version.split()[0]})")
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
