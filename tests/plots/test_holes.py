import pytest
import torch

from pvae import plots
from pvae.estimate.holes import Holes, hole_distances


def measured(width):
    codes = torch.randn(200, width, dtype=torch.float64)
    draws = 2 * torch.randn(300, width, dtype=torch.float64)
    distances = hole_distances(draws, codes)
    return Holes(distances, distances, None, codes, draws, "")


def test_codes_over_prior_draws_one_panel_per_model_and_says_the_share():
    figure = plots.codes_over_prior({"a": measured(2), "b": measured(2)})
    titles = [axes.get_title() for axes in figure.axes[:2]]
    assert all("of prior draws in holes" in title for title in titles)


def test_codes_over_prior_refuses_what_it_cannot_draw():
    with pytest.raises(ValueError, match="2-D latent space only"):
        plots.codes_over_prior({"a": measured(3)})
    with pytest.raises(ValueError, match="at least one"):
        plots.codes_over_prior({})
