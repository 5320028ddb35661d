"""A benchmark's result: rows of named values, written as JSON and as a markdown table.

Each table says where it came from (mode, date, command, versions, cores: its provenance),
an estimate is a :class:`PlusMinus` (shown ``value ± s.e.``), and a row measured against a
target says whether it met it (:func:`verdict`).
"""

from __future__ import annotations

import json
import math
import platform
import resource
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import torch

from pvae.estimate import Convergence, Estimate
from pvae.plots import provenance, save_figure

__all__ = ["SHARED_MNIST", "PlusMinus", "Table", "alternating_medians", "convergence_note",
           "peak_rss_mb", "verdict"]

#: The MNIST IDX files the project keeps beside the repository (../shared/data/mnist).
SHARED_MNIST = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"
#: what a tiny table's title says
TINY = " (tiny smoke run: not a result)"


class PlusMinus(NamedTuple):
    """An estimate and its standard error: ``value ± stderr`` in markdown, both in JSON."""

    value: float
    stderr: float

    @classmethod
    def of(cls, estimate: Estimate) -> PlusMinus:
        """An estimate's value and standard error (over its datapoints)."""
        return cls(estimate.value, estimate.stderr)

    @classmethod
    def difference(cls, a: Estimate, b: Estimate) -> PlusMinus:
        """``a - b`` with its *paired* standard error: both on the same datapoints."""
        if len(a.per_datapoint) != len(b.per_datapoint):
            raise ValueError(f"{a.name} and {b.name} are not on the same datapoints")
        gap = a.per_datapoint.double() - b.per_datapoint.double()
        spread = float(gap.std()) if len(gap) > 1 else 0.0
        return cls(float(gap.mean()), spread / math.sqrt(len(gap)))

    def __str__(self) -> str:
        if not (math.isfinite(self.value) and math.isfinite(self.stderr)):
            return f"{self.value:.4g} ± {self.stderr:.2g}"
        # the value to the standard error's second significant digit
        places = 4 if self.stderr <= 0 else min(6, max(0, 1 - math.floor(
            math.log10(self.stderr))))
        return f"{self.value:.{places}f} ± {self.stderr:.{places}f}"


def verdict(value: float, at_most: float) -> str:
    """``"met"`` when ``value <= at_most``, ``"not met"`` otherwise (or when not a number)."""
    return "met" if math.isfinite(value) and value <= at_most else "not met"


def _json_ready(value: Any) -> Any:
    """``value`` as JSON can hold it: a NaN or an infinity becomes null, a PlusMinus a dict."""
    if isinstance(value, PlusMinus):
        return {"value": _json_ready(value.value), "stderr": _json_ready(value.stderr)}
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(key): _json_ready(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json_ready(item) for item in value]
    return value


@dataclass
class Table:
    """Rows with the same columns, a title and notes that say how to read them.

    :meth:`stamp` records the run's mode (``"tiny"`` or ``"full"``) and command before
    :meth:`write`; a tiny table says so in its title.
    """

    name: str
    title: str
    columns: list[str]
    rows: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    figures: list[tuple[str, Any]] = field(default_factory=list)  # (file name, Figure)
    provenance: dict[str, str] = field(default_factory=dict)

    def add(self, **row: Any) -> None:
        """Append a row; it must have every column."""
        missing = set(self.columns) - set(row)
        if missing:
            raise ValueError(f"row lacks columns {sorted(missing)}")
        self.rows.append(row)

    def stamp(self, mode: str, command: str) -> None:
        """Record the run: ``mode`` (``"tiny"`` or ``"full"``), ``command``, date, versions."""
        if mode not in ("tiny", "full"):
            raise ValueError(f"a benchmark runs in mode 'tiny' or 'full'; got {mode!r}")
        self.provenance = provenance(mode, command)

    @property
    def heading(self) -> str:
        """The title, saying so when the run was a tiny one."""
        return self.title + (TINY if self.provenance.get("Mode") == "tiny" else "")

    def markdown(self) -> str:
        """The table as markdown: title, provenance, rows, then notes."""
        def cell(value: Any) -> str:
            if isinstance(value, float):
                return f"{value:.4g}" if abs(value) < 1e4 else f"{value:.0f}"
            return str(value)

        lines = [f"### {self.heading}", ""]
        if self.provenance:
            record = self.provenance
            lines += [f"*{record['Mode']} run, {record['Date']}: `{record['Command']}`; "
                      f"{record['Versions']}; {record['Cores']}.*", ""]
        lines += ["| " + " | ".join(self.columns) + " |", "|" + "---|" * len(self.columns)]
        lines += ["| " + " | ".join(cell(r[c]) for c in self.columns) + " |" for r in self.rows]
        lines += [""] + [f"- {note}" for note in self.notes]
        return "\n".join(lines) + "\n"

    def write(self, folder: Path) -> None:
        """Write ``NAME.json`` (valid JSON: null for NaN) and ``NAME.md`` into ``folder``.

        Both carry the provenance; so does every figure's PNG (in its metadata).
        """
        if not self.provenance:
            raise ValueError(f"{self.name}: stamp the table with its mode and command first")
        folder.mkdir(parents=True, exist_ok=True)
        machine = {"python": platform.python_version(), "torch": torch.__version__,
                   "machine": platform.machine(), "threads": torch.get_num_threads()}
        payload = {"name": self.name, "title": self.heading, "mode": self.provenance["Mode"],
                   "provenance": self.provenance, "columns": self.columns, "rows": self.rows,
                   "notes": self.notes, "machine": machine}
        (folder / f"{self.name}.json").write_text(
            json.dumps(_json_ready(payload), indent=2, allow_nan=False))
        markdown = self.markdown()
        for file_name, figure in self.figures:
            save_figure(figure, folder / file_name, self.provenance, dpi=120)
            markdown += f"\n![{file_name}]({file_name})\n"
        (folder / f"{self.name}.md").write_text(markdown)


def alternating_medians(runs: dict[str, Callable[[], Any]], repeats: int) -> dict[str, float]:
    """Median wall time of each run, calling them in turn ``repeats`` times (after a warm-up).

    Alternating keeps a slow patch of the machine from landing on one side only, so the
    ratio of two medians is measured side by side.
    """
    for fn in runs.values():
        fn()
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeats):
        for name, fn in runs.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def peak_rss_mb() -> float:
    """The process's peak resident memory so far, in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def convergence_note(convergence: Convergence | None) -> str:
    """What an AIS estimate's convergence check says, in a few words (its time is included)."""
    if convergence is None:
        return "convergence not checked"
    return (f"{'converged' if convergence.converged else 'NOT converged'}: bias left "
            f"{convergence.bias_left:.3f} ± {convergence.bias_left_stderr:.3f} (vs AIS-"
            f"{convergence.short_steps})")
