import pytest
import torch
from matplotlib.container import ErrorbarContainer

from pvae.estimate import Estimate
from pvae.plots import BoundLadder, bounds_against_k, paired_difference
from pvae.plots.bounds import NOTE

ROWS = torch.arange(4, dtype=torch.float64)


def ladder(name, exact, *, elbo_draws=10):
    iwae = [Estimate.of(f"iwae-{k}", -10.0 + 0.1 * k**0.5 + 0.01 * ROWS * k, k) for k in (1, 10)]
    exact_estimate = Estimate.of("exact", -9.0 + 0.5 * ROWS, 0) if exact else None
    return BoundLadder(name, Estimate.of("elbo", -10.1 + ROWS, elbo_draws), iwae,
                       exact_estimate)


def test_one_panel_per_model_with_the_exact_line_where_known():
    figure = bounds_against_k([ladder("a", True), ladder("b", False), ladder("c", False)],
                              columns=2)
    visible = [axes for axes in figure.axes if axes.get_visible()]
    assert len(visible) == 3
    assert visible[0].get_title() == "a" and visible[0].get_xscale() == "log"
    assert any(line.get_linestyle() == ":" for line in visible[0].lines)  # exact only in 'a'
    assert not any(line.get_linestyle() == ":" for line in visible[1].lines)
    assert visible[0].get_ylabel() == "nats per datapoint"


def test_every_point_has_a_one_standard_error_bar_and_the_elbo_starts_the_ladder():
    data = ladder("a", True)
    axes = bounds_against_k([data]).axes[0]
    bars = [c for c in axes.containers if isinstance(c, ErrorbarContainer)]
    assert len(bars) == 2  # the IWAE-k line and the ELBO
    line, (caps, *_), (segments,) = bars[0]
    # k = 1 is the ELBO from all draws (IWAE-1 is the ELBO from one draw: not drawn twice)
    assert list(line.get_xdata()) == [1, 10]
    assert list(line.get_ydata()) == pytest.approx([data.elbo.value, data.iwae[1].value])
    low, high = segments.get_segments()[0][:, 1]
    assert high - low == pytest.approx(2 * data.elbo.stderr)
    assert "standard error" in NOTE and "noise" in NOTE
    assert NOTE.split(":")[0] in axes.figure.get_supxlabel().replace("\n", " ")


def test_each_panel_gives_the_paired_difference_that_closes_the_gap():
    data = ladder("a", True)
    gap, stderr = paired_difference(data.exact, data.iwae[1])
    expected = data.exact.per_datapoint - data.iwae[1].per_datapoint
    assert gap == pytest.approx(float(expected.mean()))
    assert stderr == pytest.approx(float(expected.std()) / 2)
    texts = [text.get_text() for text in bounds_against_k([data]).axes[0].texts]
    assert any("log p(x) − IWAE-10" in t and f"{gap:.3f} ± {stderr:.3f}" in t for t in texts)


def test_the_elbo_and_the_bounds_must_come_from_the_same_draws():
    with pytest.raises(ValueError, match="one set of samples"):
        bounds_against_k([ladder("a", True, elbo_draws=1)])
    short = ladder("b", False)._replace(elbo=Estimate.of("elbo", -10.0 + ROWS[:3], 10))
    with pytest.raises(ValueError, match="different numbers of datapoints"):
        bounds_against_k([short])


def test_needs_something_to_draw():
    with pytest.raises(ValueError, match="at least one"):
        bounds_against_k([])
