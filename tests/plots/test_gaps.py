import pytest
import torch

import pvae
from pvae import plots
from pvae.estimate import Estimate, Gaps, LatentUsage


def gaps(approximation, amortization):
    values = torch.full((5,), 1.0, dtype=torch.float64)
    of = Estimate.of
    return Gaps(of("exact", -values, 0), of("elbo", -values - approximation - amortization, 1),
                of("local elbo", -values - approximation, 1),
                of("approximation gap", values * approximation, 0),
                of("amortization gap", values * amortization, 0), torch.zeros(0))


def test_the_bars_stack_the_two_gaps_below_log_p():
    figure = plots.gap_bars({"A": gaps(0.5, 0.2), "B": gaps(0.1, 0.4)},
                            iwae={"A": [Estimate.of("iwae-10", -torch.full((5,), 1.3), 10)]})
    axes = figure.axes[0]
    heights = [patch.get_height() for patch in axes.patches]
    bottoms = [patch.get_y() for patch in axes.patches]
    assert heights == pytest.approx([0.5, 0.1, 0.2, 0.4])
    assert bottoms == pytest.approx([0, 0, 0.5, 0.1])
    assert axes.yaxis_inverted()
    marker = [line for line in axes.lines if line.get_label() == "IWAE-10"][0]
    assert list(marker.get_ydata()) == pytest.approx([0.3])


def test_every_gap_and_marker_has_a_one_standard_error_bar():
    noisy = gaps(0.5, 0.2)._replace(approximation=Estimate.of(
        "approximation gap", torch.tensor([0.4, 0.6, 0.5, 0.3, 0.7], dtype=torch.float64), 0))
    axes = plots.gap_bars({"A": noisy}, iwae={"A": [Estimate.of(
        "iwae-10", torch.tensor([-1.3, -1.2, -1.4, -1.3, -1.3], dtype=torch.float64), 10)]}
    ).axes[0]
    spans = sorted(float(abs(segment[1, 1] - segment[0, 1])) for collection in axes.collections
                   for segment in collection.get_segments())
    # the approximation gap's, the whole gap's (here the same) and IWAE-10's, paired with
    # log p(x) (constant here): each ± one standard error
    expected = [2 * noisy.approximation.stderr, 2 * float(torch.tensor(
        [-1.3, -1.2, -1.4, -1.3, -1.3]).std()) / 5**0.5]
    assert pytest.approx(expected[0]) in spans and pytest.approx(expected[1], rel=1e-5) in spans
    assert "± 1 s.e." in axes.get_title()


def test_the_usage_figure_greys_out_inactive_units():
    usage = LatentUsage(kl=1.0, kl_per_dim=torch.tensor([0.7, 0.1, 0.2]),
                        activity=torch.tensor([0.5, 0.001, 0.2]), active_units=2,
                        mutual_information=0.6, marginal_kl=0.4, note="a; b; c")
    figure = plots.latent_usage(usage)
    kl_axes = figure.axes[0]
    assert [p.get_height() for p in kl_axes.patches] == pytest.approx([0.7, 0.2, 0.1])
    assert kl_axes.patches[2].get_facecolor() != kl_axes.patches[0].get_facecolor()
    assert "2 of 3 units active" in figure.axes[1].get_title()


def test_no_models_no_bars():
    with pytest.raises(ValueError, match="at least one"):
        plots.gap_bars({})
    assert pvae.plots.gap_bars is plots.gap_bars
