"""Numbers the prose quotes from a benchmark are the benchmark table's, as the table says them."""

import re
from pathlib import Path

DOCS = Path(__file__).parent.parent / "docs"


def table_rows(title):
    """The header and rows (lists of cells) of the first table under ``### title...``."""
    text = (DOCS / "benchmarks.md").read_text()
    lines = text[text.index(f"### {title}"):].splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("|"))
    table = []
    for line in lines[first:]:
        if not line.startswith("|"):
            break
        if not set(line) <= set("|- "):  # not the separator
            table.append([cell.strip() for cell in line.strip("|").split("|")])
    return table


def column(rows, name):
    return rows[0].index(name)


def spaced(number):
    """1037 as the prose writes it: ``1 037``."""
    return f"{number:,}".replace(",", " ")


def test_fitting_quotes_the_mixture_tables_em_ratios():
    rows = table_rows("Gaussian mixture")
    ratio, n = column(rows, "EM time / sklearn"), column(rows, "N")
    one_thread = [row for row in rows[1:] if row[0] == "1 each"]
    small = [float(row[ratio]) for row in one_thread if row[n] == "1000"]
    large = [float(row[ratio]) for row in one_thread if int(row[n]) >= 10_000]
    fitting = (DOCS / "fitting.md").read_text()
    assert f"EM takes {small[0]:.2f}x scikit-learn's time" in fitting
    assert f"{min(large):.2f}-{max(large):.2f}x from N = 10 000 on" in fitting


def test_the_developer_page_quotes_the_speed_tables_step():
    rows = table_rows("One SVI step")
    value = column(rows, "value")
    cases = {row[1]: float(row[value]) for row in rows[1:] if row[0].startswith("784-32-4")}
    pvae_step = round(cases["pvae.fit, default (µs/step)"])
    hand_step = round(cases["hand, fused Adam (µs/step)"])
    developer = (DOCS / "developer.md").read_text()
    assert re.search(rf"takes {spaced(pvae_step)} µs against {spaced(hand_step)} µs", developer)
    assert f"{pvae_step / hand_step:.2f}x" in developer
