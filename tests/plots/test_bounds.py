import pytest
import torch

from pvae.estimate import Estimate
from pvae.plots import BoundLadder, bounds_against_k


def ladder(name, exact):
    iwae = [Estimate.of(f"iwae-{k}", torch.tensor([-10.0 + 0.1 * k**0.5]), k) for k in (1, 10)]
    exact_estimate = Estimate.of("exact", torch.tensor([-9.0]), 0) if exact else None
    return BoundLadder(name, Estimate.of("elbo", torch.tensor([-10.1]), 10), iwae,
                       exact_estimate)


def test_one_panel_per_model_with_the_exact_line_where_known():
    figure = bounds_against_k([ladder("a", True), ladder("b", False), ladder("c", False)],
                              columns=2)
    visible = [axes for axes in figure.axes if axes.get_visible()]
    assert len(visible) == 3
    assert visible[0].get_title() == "a" and visible[0].get_xscale() == "log"
    assert len(visible[0].lines) == 3 and len(visible[1].lines) == 2  # exact only in 'a'
    assert visible[0].get_ylabel() == "nats per datapoint"


def test_needs_something_to_draw():
    with pytest.raises(ValueError, match="at least one"):
        bounds_against_k([])
