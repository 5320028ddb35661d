import pytest
from matplotlib.figure import Figure

from pvae.plots import provenance, read_provenance, save_figure
from pvae.plots.provenance import KEYS, command_line


def a_figure():
    figure = Figure(figsize=(2, 2))
    figure.subplots().plot([0, 1], [1, 0])
    return figure


def test_a_saved_png_carries_its_mode_command_date_versions_and_cores(tmp_path):
    record = provenance("quick", "pvae demo --quick --out ä")
    assert list(record) == list(KEYS)
    save_figure(a_figure(), tmp_path / "f.png", record)
    found = read_provenance(tmp_path / "f.png")
    assert {key: found[key] for key in KEYS} == record
    assert found["Mode"] == "quick" and found["Command"] == "pvae demo --quick --out ä"
    for package in ("pvae ", "torch ", "pyro "):
        assert package in found["Versions"]
    assert "cores" in found["Cores"]


def test_a_png_saved_without_provenance_has_no_mode(tmp_path):
    a_figure().savefig(tmp_path / "plain.png")
    assert "Mode" not in read_provenance(tmp_path / "plain.png")


def test_the_mode_and_the_format_are_checked(tmp_path):
    with pytest.raises(ValueError, match="full, quick, tiny"):
        provenance("fast")
    with pytest.raises(ValueError, match="PNG"):
        save_figure(a_figure(), tmp_path / "f.pdf", provenance("full"))
    (tmp_path / "f.txt").write_text("not a picture")
    with pytest.raises(ValueError, match="not a PNG"):
        read_provenance(tmp_path / "f.txt")


def test_the_command_reads_as_typed():
    assert command_line(["/x/.venv/bin/pvae", "demo", "--out", "a b"]) == "pvae demo --out 'a b'"
    assert command_line(["/lib/pytest/__main__.py", "-q"]) == "python -m pytest -q"
    assert provenance("full")["Command"] == command_line()
