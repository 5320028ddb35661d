"""The tutorial: each notebook runs, its recorded run is its own, its page and notebook build."""

import importlib.util
import json
from pathlib import Path

import pytest

from pvae.plots import read_provenance

ROOT = Path(__file__).parent.parent


def _tool():
    spec = importlib.util.spec_from_file_location("tutorial_tool", ROOT / "tools" / "tutorial.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


tutorial = _tool()
SOURCES = tutorial.sources()


def test_the_tutorial_has_its_steps():
    assert len(SOURCES) >= 8
    assert [path.name[:2] for path in SOURCES] == [f"{n:02d}" for n in range(1, len(SOURCES) + 1)]


@pytest.mark.parametrize("source", SOURCES, ids=lambda path: path.stem)
def test_every_step_runs_on_the_digits(source, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(tutorial.SMOKE, "1")
    result = tutorial.run(source, tmp_path, "tiny")
    code = [number for number, (kind, _) in enumerate(tutorial.cells(source.read_text()))
            if kind == "code"]
    assert [cell["cell"] for cell in result["cells"]] == code
    figures = [figure["file"] for cell in result["cells"] for figure in cell["figures"]]
    assert figures, "every step shows at least one figure"
    for name in figures:
        assert read_provenance(tmp_path / name)["Mode"] == "tiny"
    assert any(cell["stdout"].strip() for cell in result["cells"]), "and prints a number"


@pytest.mark.parametrize("source", SOURCES, ids=lambda path: path.stem)
def test_the_recorded_run_is_of_the_current_source(source):
    outputs = tutorial.outputs_of(source)  # raises when the source changed since its run
    record = json.loads((tutorial.OUTPUTS / f"{source.stem}.json").read_text())
    assert record["mode"] == "full"
    for cell in outputs.values():
        for figure in cell["figures"]:
            assert read_provenance(tutorial.OUTPUTS / figure["file"])["Mode"] == "full"


@pytest.mark.parametrize("source", SOURCES, ids=lambda path: path.stem)
def test_each_step_is_a_page_and_a_notebook(source):
    page = tutorial.page(source)
    assert page.startswith("# ") and f'href="../{source.stem}.ipynb" download' in page
    assert "```python" in page and '```text title="output"' in page and "![" in page
    notebook = tutorial.notebook(source)
    assert notebook["nbformat"] == 4
    kinds = [cell["cell_type"] for cell in notebook["cells"]]
    assert kinds == [kind for kind, _ in tutorial.cells(source.read_text())]
    code = [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]
    assert [cell["execution_count"] for cell in code] == list(range(1, len(code) + 1))
    shown = [output for cell in code for output in cell["outputs"]]
    assert {"stream", "display_data"} <= {output["output_type"] for output in shown}
    assert all(output["data"]["image/png"] for output in shown
               if output["output_type"] == "display_data")
    json.dumps(notebook)


def test_percent_cells_are_read_as_jupytext_writes_them():
    text = "# %% [markdown]\n# # Title\n#\n# Prose.\n\n# %%\nx = 1\n\n# %%\nprint(x)\n"
    assert tutorial.cells(text) == [("markdown", "# Title\n\nProse."), ("code", "x = 1"),
                                    ("code", "print(x)")]
    with pytest.raises(ValueError, match="before the first cell"):
        tutorial.cells("x = 1\n# %%\n")
