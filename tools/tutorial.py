"""The tutorial: notebooks kept as text, run once, shown as pages, downloaded as ``.ipynb``.

Each step is a jupytext "percent" file, ``docs/tutorial/NN_name.py``: ``# %% [markdown]``
cells of prose (each line behind ``# ``) and ``# %%`` cells of code. It runs as it is
(``python docs/tutorial/01_likelihood.py``), opens in Jupyter through jupytext, and:

- ``python tools/tutorial.py [NAMES] [--tiny] [--out DIR]`` executes each source cell by
  cell, in one namespace, as a notebook kernel would; every figure a cell leaves open is
  saved as a PNG stamped with its run's provenance (:mod:`pvae.plots.provenance`), and each
  cell's printed output is kept, in ``DIR/NN_name.json`` with the source's hash. The default
  ``DIR`` is ``docs/tutorial/figures`` (full mode: what the site shows, ``make figures``);
  ``--tiny`` sets ``PVAE_SMOKE_TEST`` (each notebook then trains for seconds, as Pyro's
  tutorials do in CI) and stamps its figures "tiny";
- as an mkdocs hook (``mkdocs.yml``), it turns each source into a page: prose as markdown,
  code as fenced code followed by that run's output and figures, and a link to the notebook,
  ``NN_name.ipynb``, written at build time with the same outputs.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import io
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TUTORIAL = ROOT / "docs" / "tutorial"
OUTPUTS = TUTORIAL / "figures"
#: a step's source: two digits, an underscore, a name
SOURCE = re.compile(r"^\d\d_\w+\.py$")
CELL = re.compile(r"^# %%(.*)$")
SMOKE = "PVAE_SMOKE_TEST"


def sources(folder: Path = TUTORIAL) -> list[Path]:
    """The tutorial's steps, in order."""
    return sorted(path for path in folder.glob("*.py") if SOURCE.match(path.name))


def digest(text: str) -> str:
    """The hash that ties a run's outputs to the source it ran."""
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def cells(text: str) -> list[tuple[str, str]]:
    """The ``(kind, text)`` cells of a percent-format source; ``kind`` is code or markdown."""
    found: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        marker = CELL.match(line)
        if marker:
            found.append(("markdown" if "[markdown]" in marker.group(1) else "code", []))
        elif found:
            found[-1][1].append(line)
        elif line.strip():
            raise ValueError(f"text before the first cell: {line!r}")
    result = []
    for kind, lines in found:
        if kind == "markdown":
            lines = [re.sub(r"^# ?", "", line) for line in lines]
        body = "\n".join(lines).strip("\n")
        if body.strip():
            result.append((kind, body))
    return result


def _alt(figure: Any) -> str:
    """A figure's description: its suptitle, else its axes' titles."""
    title = figure.get_suptitle()
    if not title:
        title = "; ".join(axes.get_title() for axes in figure.axes if axes.get_title())
    return title or "figure"


def run(source: Path, out: Path, mode: str = "full") -> dict[str, Any]:
    """Execute one step cell by cell; write its figures and ``NAME.json`` into ``out``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from pvae.plots import provenance, save_figure

    text = source.read_text()
    record = provenance(mode, f"python tools/tutorial.py {source.stem}"
                        + (" --tiny" if mode == "tiny" else ""))
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob(f"{source.stem}-*.png"):
        old.unlink()
    namespace: dict[str, Any] = {"__name__": "__main__", "__file__": str(source)}
    outputs = []
    plt.close("all")
    for number, (kind, body) in enumerate(cells(text)):
        if kind != "code":
            continue
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            exec(compile(body, f"{source.name}, cell {number}", "exec"), namespace)
        figures = []
        for index, fignum in enumerate(plt.get_fignums(), 1):
            figure = plt.figure(fignum)
            name = f"{source.stem}-{number:02d}-{index}.png"
            save_figure(figure, out / name, record)
            figures.append({"file": name, "alt": _alt(figure)})
        plt.close("all")
        outputs.append({"cell": number, "stdout": printed.getvalue(), "figures": figures})
    result = {"source": source.name, "sha256": digest(text), "mode": mode, "cells": outputs}
    (out / f"{source.stem}.json").write_text(json.dumps(result, indent=1) + "\n")
    return result


def outputs_of(source: Path, folder: Path = OUTPUTS) -> dict[int, dict[str, Any]]:
    """The recorded outputs of each code cell, by cell number; checks they are this source's."""
    path = folder / f"{source.stem}.json"
    if not path.is_file():
        raise ValueError(f"{source.name} has not been run: python tools/tutorial.py {source.stem}")
    recorded = json.loads(path.read_text())
    if recorded["sha256"] != digest(source.read_text()):
        raise ValueError(f"{source.name} changed since its run: "
                         f"python tools/tutorial.py {source.stem}")
    return {cell["cell"]: cell for cell in recorded["cells"]}


def page(source: Path, folder: Path = OUTPUTS, figures: str = "figures") -> str:
    """The markdown page of one step: prose, code, and each code cell's output."""
    outputs = outputs_of(source, folder)
    parts = []
    for number, (kind, body) in enumerate(cells(source.read_text())):
        if kind == "markdown":
            parts.append(body)
            if not parts[1:]:  # after the title: where to get the notebook
                # the page is tutorial/NN_name/index.html: its files are one folder up
                parts.append(f'!!! note "Run it yourself"\n    Download this step as a notebook, '
                             f'<a href="../{source.stem}.ipynb" download>{source.stem}.ipynb'
                             f'</a>, or its text source, <a href="../{source.name}" download>'
                             f"{source.name}</a> (jupytext's percent format). The outputs "
                             "below are from one run of it on the embedded digits.")
            continue
        parts.append(f"```python\n{body}\n```")
        shown = outputs.get(number, {"stdout": "", "figures": []})
        if shown["stdout"].strip():
            parts.append(f'```text title="output"\n{shown["stdout"].rstrip()}\n```')
        parts.extend(f"![{figure['alt']}]({figures}/{figure['file']})"
                     for figure in shown["figures"])
    return "\n\n".join(parts) + "\n"


def notebook(source: Path, folder: Path = OUTPUTS) -> dict[str, Any]:
    """One step as an nbformat-4 notebook, with its recorded outputs."""
    outputs = outputs_of(source, folder)
    notebook_cells = []
    count = 0
    for number, (kind, body) in enumerate(cells(source.read_text())):
        lines = body.splitlines(keepends=True)
        if kind == "markdown":
            notebook_cells.append({"cell_type": "markdown", "metadata": {}, "source": lines})
            continue
        count += 1
        shown = outputs.get(number, {"stdout": "", "figures": []})
        cell_outputs: list[dict[str, Any]] = []
        if shown["stdout"]:
            cell_outputs.append({"output_type": "stream", "name": "stdout",
                                 "text": shown["stdout"].splitlines(keepends=True)})
        for figure in shown["figures"]:
            image = base64.b64encode((folder / figure["file"]).read_bytes()).decode()
            cell_outputs.append({"output_type": "display_data", "metadata": {},
                                 "data": {"image/png": image, "text/plain": [figure["alt"]]}})
        notebook_cells.append({"cell_type": "code", "execution_count": count, "metadata": {},
                               "outputs": cell_outputs, "source": lines})
    return {"cells": notebook_cells, "nbformat": 4, "nbformat_minor": 4,
            "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                        "language": "python"},
                         "language_info": {"name": "python"},
                         "jupytext": {"formats": "ipynb,py:percent"}}}


def on_files(files: Any, config: Any) -> Any:
    """mkdocs: each step's page and notebook join the site; the run records do not."""
    from mkdocs.structure.files import File

    for source in sources(Path(config["docs_dir"]) / "tutorial"):
        folder = source.parent / "figures"
        stem = f"tutorial/{source.stem}"
        files.append(File.generated(config, f"{stem}.md", content=page(source, folder)))
        files.append(File.generated(config, f"{stem}.ipynb",
                                    content=json.dumps(notebook(source, folder), indent=1)))
        record = files.get_file_from_path(f"tutorial/figures/{source.stem}.json")
        if record is not None:
            files.remove(record)
    return files


def main(argv: list[str] | None = None) -> None:
    """Run the tutorial's steps and record what they show."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("names", nargs="*", help="steps to run, e.g. 01_likelihood (all)")
    parser.add_argument("--tiny", action="store_true", help="seconds per step, for the tests")
    parser.add_argument("--out", type=Path, default=OUTPUTS, help="where to write")
    args = parser.parse_args(argv)
    chosen = [path for path in sources()
              if not args.names or path.stem in args.names or path.name in args.names]
    if args.names and len(chosen) != len(args.names):
        parser.error(f"unknown step among {args.names}; known: "
                     + ", ".join(path.stem for path in sources()))
    if args.tiny:
        os.environ[SMOKE] = "1"
    for source in chosen:
        run(source, args.out, "tiny" if args.tiny else "full")
        print(f"{source.name} -> {args.out}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
