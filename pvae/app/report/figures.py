"""The report's figures: each section adds its own, with a caption; all are saved at the end."""

from __future__ import annotations

from pathlib import Path

from matplotlib.figure import Figure

__all__ = ["Figures", "save_figures"]

#: a figure's file name (without ``.png``) -> the figure and its caption
Figures = dict[str, tuple[Figure, str]]


def save_figures(figures: Figures, folder: Path) -> list[str]:
    """Save every figure as ``folder/figures/NAME.png``; the report's lines that show them."""
    (folder / "figures").mkdir(exist_ok=True)
    lines = []
    for name, (figure, caption) in figures.items():
        figure.savefig(folder / "figures" / f"{name}.png", dpi=100)
        lines += [f"### {name.replace('_', ' ').capitalize()}", "",
                  f"![{name}](figures/{name}.png)", "", caption, ""]
    return lines
