import pytest
import torch

import pvae
from pvae import plots


def test_the_sandwich_figure_draws_both_bounds_against_steps():
    model = pvae.LinearGaussian(4, 1).double()
    x = torch.randn(200, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    model.set_closed_form(x, exact_guide=False)
    runs = [pvae.bdmc(model, 10, steps=steps, chains=4, leapfrog=3, ks=(10,), seed=1)
            for steps in (20, 2)]
    exact = float(model.log_likelihood(runs[0].data.x).mean())
    figure = plots.sandwich(runs, exact=exact)
    axes = figure.axes[0]
    assert axes.get_xscale() == "log"
    labels = [line.get_label() for line in axes.lines]
    assert labels[:2] == ["upper bound: reverse AIS from exact codes", "lower bound: forward AIS"]
    assert {"ELBO", "IWAE-10", "exact log p(x)"} <= set(labels)
    assert list(axes.lines[1].get_xdata()) == [2, 20]  # sorted by steps
    # ± one standard error on each bound at each number of steps
    spans = {round(float(abs(segment[1, 1] - segment[0, 1])), 6)
             for collection in axes.collections[1:] for segment in collection.get_segments()}
    for run in runs:
        assert round(2 * run.upper.stderr, 6) in spans and round(2 * run.lower.stderr, 6) in spans
    assert "standard error" in figure.get_supxlabel() and "noise" in figure.get_supxlabel()


def test_no_runs_no_figure():
    with pytest.raises(ValueError, match="at least one"):
        plots.sandwich([])
