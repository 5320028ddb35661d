"""Every Python block in the docs runs; every `pvae` command and TOML config in them parses."""

import os
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from pvae.app.cli import _parser
from pvae.config import load_config

DOCS = Path(__file__).parent.parent / "docs"
PAGES = sorted(DOCS.rglob("*.md"))
BLOCK = re.compile(r"^```(\w+)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def blocks(page, language):
    return [code for lang, code in BLOCK.findall(page.read_text()) if lang == language]


def page_id(page):
    return str(page.relative_to(DOCS))


def test_the_docs_have_pages_with_code():
    assert len(PAGES) >= 10
    assert sum(len(blocks(page, "python")) for page in PAGES) >= 10


@pytest.mark.parametrize("page", [p for p in PAGES if blocks(p, "python")], ids=page_id)
def test_python_blocks_run(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # blocks that write files write them here
    namespace: dict = {"__name__": f"docs_{page.stem}"}
    for number, code in enumerate(blocks(page, "python"), 1):
        try:
            exec(compile(code, f"{page_id(page)}, block {number}", "exec"), namespace)
        except Exception as error:
            raise AssertionError(f"{page_id(page)} block {number} failed: {error!r}") from error


@pytest.mark.parametrize("page", [p for p in PAGES if blocks(p, "sh")], ids=page_id)
def test_pvae_commands_in_the_docs_parse(page):
    for code in blocks(page, "sh"):
        for line in code.splitlines():
            command = line.split("#")[0].strip()
            if command.startswith("pvae "):
                _parser().parse_args(shlex.split(command)[1:])


@pytest.mark.parametrize("page", [p for p in PAGES if blocks(p, "toml")], ids=page_id)
def test_toml_blocks_are_valid_configs(page):
    for code in blocks(page, "toml"):
        load_config(tomllib.loads(code))


LEFTOVER_TEX = re.compile(r"\\\(|\\\[|:math:|\.\. math::|\$\$|>\\[A-Za-z]+<")


def test_built_pages_show_maths_without_a_script_or_a_network(tmp_path):
    import subprocess
    import sys

    site = tmp_path / "site"
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet",
                           "--site-dir", str(site)], cwd=DOCS.parent, capture_output=True,
                          text=True, timeout=300, env={**os.environ,
                                                       "NO_MKDOCS_2_WARNING": "1"})
    assert done.returncode == 0, done.stderr[-2000:]
    pages = sorted(site.rglob("*.html"))
    assert sum(page.read_text().count("<math") for page in pages) > 100
    for page in pages:
        text = page.read_text()
        assert "mathjax" not in text.lower(), page
        leftover = LEFTOVER_TEX.search(re.sub(r"<(code|pre)[^>]*>.*?</\1>", "", text,
                                              flags=re.DOTALL))
        assert leftover is None, (page, text[leftover.start() - 80:leftover.end() + 80])


def strict_docs_command():
    """The Makefile's strict docs build, as ``make test`` runs it."""
    root = Path(__file__).parent.parent
    line = next(line for line in (root / "Makefile").read_text().splitlines()
                if line.startswith("MKDOCS_STRICT :="))
    command = line.split(":=", 1)[1].strip().replace("$(BIN)", str(Path(sys.executable).parent))
    environment, *argv = shlex.split(command)
    name, value = environment.split("=", 1)
    return argv, {**os.environ, name: value}


def test_the_strict_docs_build_fails_on_a_planted_warning(tmp_path):
    argv, environment = strict_docs_command()
    assert "--quiet" not in argv and "--strict" in argv
    (tmp_path / "docs").mkdir()
    (tmp_path / "planted.py").write_text(
        'def f(x):\n    """Do it.\n\n    Parameters\n    ----------\n    x : int\n        A number.'
        '\n\n    A paragraph that griffe reads as a parameter.\n    """\n')
    (tmp_path / "docs" / "index.md").write_text("# Planted\n\n::: planted.f\n")
    (tmp_path / "mkdocs.yml").write_text(
        "site_name: planted\nplugins:\n  - mkdocstrings:\n      handlers:\n        python:\n"
        "          paths: [.]\n          options:\n            docstring_style: numpy\n")
    built = subprocess.run([*argv, "--site-dir", str(tmp_path / "site")], cwd=tmp_path,
                           env=environment, capture_output=True, text=True, timeout=300)
    assert built.returncode != 0, built.stderr
    assert "WARNING" in built.stderr and "planted.py" in built.stderr


def test_the_readmes_python_runs_in_order_as_one_script(tmp_path, monkeypatch):
    readme = Path(__file__).parent.parent / "README.md"
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "readme"}
    for number, code in enumerate(blocks(readme, "python"), 1):
        try:
            exec(compile(code, f"README.md, block {number}", "exec"), namespace)
        except Exception as error:
            raise AssertionError(f"README.md block {number} failed: {error!r}") from error


def test_no_source_file_holds_a_control_character():
    # "\theta" in a docstring that is not raw becomes a tab and "heta": the maths breaks silently
    root = DOCS.parent
    files = [path for folder in ("pvae", "tests", "benchmarks", "tools", "docs")
             for path in (root / folder).rglob("*") if path.suffix in {".py", ".md", ".toml"}]
    control = re.compile(r"[\x00-\x08\x0b-\x1f]")
    assert len(files) > 100
    assert [str(path.relative_to(root)) for path in files if control.search(path.read_text())] == []


#: Docs figures drawn by benchmarks before PNGs carried their provenance; their full runs
#: (MNIST) take hours on two cores, so they are not yet regenerated and are shown as they were.
#: Every other docs figure must come from a full run of `make figures`; regenerating one of
#: these stamps it and takes it off this list.
NOT_YET_REGENERATED = {
    "figures/likelihood_ladder_digits.png", "figures/likelihood_ladder_mnist.png",
    "figures/gaps_mnist.png",
    "figures/sandwich_digits_vae.png", "figures/sandwich_linear_gaussian.png",
    "figures/mnist/holes_interpolation.png", "figures/mnist/holes_prior_samples.png",
    "figures/mnist/holes_codes_over_prior.png",
}


def figure_problems(folder, not_yet_regenerated=frozenset()):
    """Each PNG under ``folder`` not stamped by a full run, with what is wrong with it."""
    from pvae.plots import read_provenance

    problems = []
    for path in sorted(folder.rglob("*.png")):
        name = str(path.relative_to(folder))
        record = read_provenance(path)
        mode = record.get("Mode")
        if mode == "full" or (mode is None and name in not_yet_regenerated):
            continue
        problems.append(f"{name}: " + (f"made in {mode} mode by `{record.get('Command')}`"
                                       if mode else "no provenance") + "; run `make figures`")
    return problems


def test_every_docs_figure_comes_from_a_full_run():
    assert figure_problems(DOCS, NOT_YET_REGENERATED) == []
    assert {name for name in NOT_YET_REGENERATED if not (DOCS / name).is_file()} == set()


def test_the_figure_check_fails_on_a_quick_tiny_or_unstamped_figure(tmp_path):
    from matplotlib.figure import Figure

    from pvae.plots import provenance, save_figure

    figure = Figure(figsize=(2, 2))
    figure.subplots().plot([0, 1])
    (tmp_path / "figures").mkdir()
    save_figure(figure, tmp_path / "figures" / "full.png", provenance("full"))
    assert figure_problems(tmp_path) == []
    save_figure(figure, tmp_path / "figures" / "gaps.png", provenance("quick", "pvae demo --quick"))
    save_figure(figure, tmp_path / "tiny.png", provenance("tiny"))
    figure.savefig(tmp_path / "figures" / "new.png")
    listed = {"figures/gaps.png", "figures/new.png"}  # a quick stamp fails, listed or not
    assert [line.split(":")[0] for line in figure_problems(tmp_path, listed)] == [
        "figures/gaps.png", "tiny.png"]
    problems = figure_problems(tmp_path)
    assert [line.split(":")[0] for line in problems] == [
        "figures/gaps.png", "figures/new.png", "tiny.png"]
    assert "quick mode by `pvae demo --quick`" in problems[0] and "no provenance" in problems[1]


def test_one_documented_command_regenerates_every_docs_figure():
    import importlib.util

    root = DOCS.parent
    spec = importlib.util.spec_from_file_location("figures_tool", root / "tools" / "figures.py")
    assert spec is not None and spec.loader is not None
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    shown = set(DOCS.rglob("*.png"))
    assert shown and shown <= tool.every_target(), shown - tool.every_target()
    makefile = (root / "Makefile").read_text()
    assert "\nfigures: $(STAMP)\n\t$(BIN)/python tools/figures.py" in makefile
    for page in (root / "README.md", DOCS / "benchmarks.md"):
        assert "make figures" in page.read_text(), page
