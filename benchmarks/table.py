"""A benchmark's result: rows of named values, written as JSON and as a markdown table."""

from __future__ import annotations

import json
import platform
import resource
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

__all__ = ["SHARED_MNIST", "Table", "alternating_medians", "peak_rss_mb"]

#: The MNIST IDX files the project keeps beside the repository (../shared/data/mnist).
SHARED_MNIST = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"


@dataclass
class Table:
    """Rows with the same columns, a title and notes that say how to read them."""

    name: str
    title: str
    columns: list[str]
    rows: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    figures: list[tuple[str, Any]] = field(default_factory=list)  # (file name, Figure)

    def add(self, **row: Any) -> None:
        """Append a row; it must have every column."""
        missing = set(self.columns) - set(row)
        if missing:
            raise ValueError(f"row lacks columns {sorted(missing)}")
        self.rows.append(row)

    def markdown(self) -> str:
        """The table as markdown, title first and notes after."""
        def cell(value: Any) -> str:
            if isinstance(value, float):
                return f"{value:.4g}" if abs(value) < 1e4 else f"{value:.0f}"
            return str(value)

        lines = [f"### {self.title}", "", "| " + " | ".join(self.columns) + " |",
                 "|" + "---|" * len(self.columns)]
        lines += ["| " + " | ".join(cell(r[c]) for c in self.columns) + " |" for r in self.rows]
        lines += [""] + [f"- {note}" for note in self.notes]
        return "\n".join(lines) + "\n"

    def write(self, folder: Path) -> None:
        """Write ``NAME.json`` (with the machine it ran on) and ``NAME.md`` into ``folder``."""
        folder.mkdir(parents=True, exist_ok=True)
        machine = {"python": platform.python_version(), "torch": torch.__version__,
                   "machine": platform.machine(), "threads": torch.get_num_threads()}
        payload = {"name": self.name, "title": self.title, "columns": self.columns,
                   "rows": self.rows, "notes": self.notes, "machine": machine}
        (folder / f"{self.name}.json").write_text(json.dumps(payload, indent=2))
        markdown = self.markdown()
        for file_name, figure in self.figures:
            figure.savefig(folder / file_name, dpi=120)
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
