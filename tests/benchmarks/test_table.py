"""benchmarks/table.py: every table says where it came from, and its JSON is JSON."""

import json
import sys
import types
from pathlib import Path

import pytest
import torch
from matplotlib.figure import Figure

from pvae.estimate import Estimate
from pvae.plots import read_provenance

sys.path.insert(0, str(Path(__file__).parents[2]))  # the benchmarks live beside pvae

from benchmarks import run  # noqa: E402
from benchmarks.table import PlusMinus, Table, verdict  # noqa: E402


def refuse(constant):
    raise ValueError(f"{constant} is not JSON")


def a_table():
    table = Table("demo", "Estimates", ["model", "nats", "ratio", "target", "met"])
    figure = Figure(figsize=(2, 2))
    figure.subplots().plot([0, 1])
    table.figures.append(("demo.png", figure))
    table.add(model="a", nats=PlusMinus(-10.123456, 0.0234), ratio=float("nan"),
              target="<= 1.2", met=verdict(float("nan"), 1.2))
    table.add(model="b", nats=PlusMinus(float("inf"), 0.1), ratio=1.1, target="<= 1.2",
              met=verdict(1.1, 1.2))
    return table


def test_a_tiny_table_says_so_and_records_its_run_in_markdown_json_and_png(tmp_path):
    table = a_table()
    table.stamp("tiny", "python -m benchmarks.run demo --tiny")
    table.write(tmp_path)
    text = (tmp_path / "demo.json").read_text()
    payload = json.loads(text, parse_constant=refuse)  # NaN and Infinity are not JSON
    assert payload["mode"] == "tiny" and payload["title"].endswith("(tiny smoke run: not a result)")
    record = payload["provenance"]
    assert record["Command"] == "python -m benchmarks.run demo --tiny"
    assert {"Date", "Versions", "Cores"} <= set(record) and "pyro" in record["Versions"]
    assert payload["rows"][0]["ratio"] is None and payload["rows"][1]["nats"]["value"] is None
    assert payload["rows"][0]["nats"] == {"value": -10.123456, "stderr": 0.0234}
    markdown = (tmp_path / "demo.md").read_text()
    assert markdown.startswith("### Estimates (tiny smoke run: not a result)")
    assert "*tiny run, " in markdown and "`python -m benchmarks.run demo --tiny`" in markdown
    assert "| a | -10.123 ± 0.023 | nan | <= 1.2 | not met |" in markdown
    assert "| b | inf ± 0.1 | 1.1 | <= 1.2 | met |" in markdown
    assert read_provenance(tmp_path / "demo.png")["Mode"] == "tiny"


def test_a_full_table_has_no_tiny_title_and_an_unstamped_one_is_not_written(tmp_path):
    table = a_table()
    with pytest.raises(ValueError, match="stamp"):
        table.write(tmp_path)
    with pytest.raises(ValueError, match="'tiny' or 'full'"):
        table.stamp("quick", "x")
    table.stamp("full", "python -m benchmarks.run demo")
    assert table.markdown().startswith("### Estimates\n\n*full run, ")


def test_a_difference_has_its_paired_standard_error():
    base = torch.tensor([0.0, 10.0, 20.0, 30.0], dtype=torch.float64)
    a = Estimate.of("a", base + torch.tensor([1.0, 1.2, 0.8, 1.0], dtype=torch.float64), 1)
    b = Estimate.of("b", base, 1)
    gap = PlusMinus.difference(a, b)
    assert gap.value == pytest.approx(1.0)
    assert gap.stderr == pytest.approx(float(torch.tensor([0.0, 0.2, -0.2, 0.0]).std()) / 2)
    assert gap.stderr < a.stderr / 10  # the data's spread cancels
    assert PlusMinus.of(a) == (a.value, a.stderr)
    assert str(PlusMinus(-89.7612, 0.0123)) == "-89.761 ± 0.012"
    with pytest.raises(ValueError, match="same datapoints"):
        PlusMinus.difference(a, Estimate.of("c", base[:3], 1))


def test_run_passes_the_mode_and_the_command_into_the_table(tmp_path, monkeypatch):
    fake = types.ModuleType("benchmarks.fake")
    fake.run = lambda tiny: Table("fake", "Fake", ["x"], rows=[{"x": float(tiny)}])
    monkeypatch.setitem(sys.modules, "benchmarks.fake", fake)
    monkeypatch.setattr(run, "BENCHMARKS", ("fake",))
    run.main(["fake", "--tiny", "--out", str(tmp_path)])
    payload = json.loads((tmp_path / "fake.json").read_text())
    assert payload["mode"] == "tiny"
    assert payload["provenance"]["Command"] == (
        f"python -m benchmarks.run fake --tiny --out {tmp_path}")
