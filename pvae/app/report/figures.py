"""The report's figures: each section adds its own, with a caption; all are saved at the end."""

from __future__ import annotations

from pathlib import Path

from matplotlib.figure import Figure

from ...plots import provenance, save_figure

__all__ = ["Figures", "save_figures"]

#: a figure's file name (without ``.png``) -> the figure and its caption
Figures = dict[str, tuple[Figure, str]]


def save_figures(figures: Figures, folder: Path, *, mode: str = "full",
                 command: str | None = None) -> list[str]:
    """Save every figure as ``folder/figures/NAME.png``; the report's lines that show them.

    Each PNG carries the run's provenance (``mode`` is ``"quick"`` for ``pvae demo --quick``,
    ``command`` defaults to the running one) in its metadata: :func:`pvae.plots.read_provenance`
    reads it back, and the docs accept only figures from full runs.
    """
    (folder / "figures").mkdir(exist_ok=True)
    record = provenance(mode, command)
    lines = []
    for name, (figure, caption) in figures.items():
        save_figure(figure, folder / "figures" / f"{name}.png", record, dpi=100)
        lines += [f"### {name.replace('_', ' ').capitalize()}", "",
                  f"![{name}](figures/{name}.png)", "", caption, ""]
    return lines
