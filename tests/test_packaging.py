"""pyproject.toml's lower bounds, the oldest lock CI installs, and the SPEC 0 window."""

import datetime
import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("oldest", ROOT / "tools" / "oldest.py")
assert _spec is not None and _spec.loader is not None
oldest = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(oldest)

#: the day each lower bound was released on PyPI (its first file's upload-time in PyPI's
#: JSON simple API, PEP 700); a new bound brings its date
RELEASED = {"torch": "2025-01-29", "numpy": "2024-12-08", "pyro-ppl": "2024-06-02",
            "arviz": "2026-03-02", "matplotlib": "2024-12-14", "scikit-learn": "2024-12-09",
            "tqdm": "2024-11-06", "tomli-w": "2024-10-08", "torchmetrics": "2024-11-12",
            "lazy-loader": "2024-04-05"}
#: SPEC 0's window in December 2026 starts two years back; its first releases came by the
#: end of January 2025 (torch 2.6)
WINDOW_FIRST_RELEASES = datetime.date(2025, 1, 31)
#: bounds the code needs newer than the window: ArviZ 1.0 is the first release of the 1.x
#: API (DataTree) that pvae is written for
NEEDED_BY_THE_CODE = {"arviz"}


def test_the_oldest_lock_pins_every_dependency_at_its_lower_bound():
    bounds = oldest.lower_bounds()
    pins = oldest.pinned(ROOT / "requirements-oldest.lock")
    assert {name: pins.get(name) for name in bounds} == bounds


def test_the_lower_bounds_reach_back_as_spec_0_asks():
    """No bound newer than the window's first releases, bar one the code needs; torch <= 2.8."""
    bounds = oldest.lower_bounds()
    assert set(RELEASED) == set(bounds), "give each new dependency's lower bound its date"
    too_new = {name for name, day in RELEASED.items()
               if datetime.date.fromisoformat(day) > WINDOW_FIRST_RELEASES}
    assert too_new == NEEDED_BY_THE_CODE
    assert tuple(int(part) for part in bounds["torch"].split(".")[:2]) <= (2, 8)


def test_a_bound_that_is_not_a_lower_bound_is_refused(tmp_path):
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[project]\ndependencies = ["torch==2.6"]\n')
    with pytest.raises(ValueError, match="no lower bound"):
        oldest.lower_bounds(pyproject)
    pyproject.write_text('[project]\ndependencies = ["Lazy_Loader>=0.4", "torch >= 2.6"]\n')
    assert oldest.lower_bounds(pyproject) == {"lazy-loader": "0.4", "torch": "2.6"}
