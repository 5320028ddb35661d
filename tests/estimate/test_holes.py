"""pvae.holes against codes whose places are known."""

import pyro
import pyro.distributions as dist
import pytest
import torch

import pvae
from pvae.estimate.holes import hole_distances


class IdentityCodes(torch.nn.Module):
    """z ~ N(0, I) in 2-D, x ~ N(z, 0.1^2 I); the guide is N(x, scale^2 I), a Delta at 0.

    So each datapoint's training code is the datapoint itself (plus the guide's noise), and
    the data place the codes wherever a test wants them.
    """

    def __init__(self, scale: float = 0.0) -> None:
        super().__init__()
        self.scale = scale

    def model(self, x):
        with pyro.plate("data", x.shape[0]):
            z = pyro.sample("z", dist.Normal(torch.zeros_like(x), 1.0).to_event(1))
            pyro.sample("x", dist.Normal(z, 0.1).to_event(1), obs=x)

    def guide(self, x):
        with pyro.plate("data", x.shape[0]):
            q = (dist.Delta(x, event_dim=1) if self.scale == 0 else
                 dist.Normal(x, self.scale).to_event(1))
            pyro.sample("z", q)


def two_clusters(n=600, apart=8.0):
    x = 0.3 * torch.randn(n, 2, dtype=torch.float64)
    x[: n // 2, 0] -= apart / 2
    x[n // 2:, 0] += apart / 2
    return x


def test_draws_on_the_codes_are_at_distance_zero_and_distance_grows_away_from_them():
    codes = torch.randn(500, 3, dtype=torch.float64)
    on = hole_distances(codes[:50], codes)
    assert torch.equal(on.distance, torch.zeros(50, dtype=torch.float64)) and on.share == 0
    direction = torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64)
    far = codes.abs().max() + torch.arange(1, 6, dtype=torch.float64)[:, None] * direction
    away = hole_distances(far, codes).distance
    assert (away.diff() > 0).all() and away[0] > hole_distances(far, codes).threshold


def test_the_gap_between_two_far_clusters_is_found():
    x = two_clusters()
    measured = pvae.holes(IdentityCodes(), x, draws=3000, paths=400, steps=8)
    assert torch.allclose(measured.codes, x)  # a Delta guide: the codes are the points
    # half the paths join the two clusters; their inner points between -3.1 and 3.1 lie in
    # the gap (7 of 8 of them at 8 apart), the other half stay inside one cluster
    assert 0.35 < measured.interpolation.share < 0.55
    # the prior N(0, I) puts most of its mass in the gap between x = -4 and x = 4
    assert measured.prior.share > 0.9
    assert measured.coverage is None and "point-mass" in measured.note


def test_codes_that_fill_the_prior_leave_no_holes_and_cover_its_mass():
    """Data N(0, 0.75 I) and q = N(x, 0.25 I): the aggregate posterior is the prior itself."""
    x = 0.75**0.5 * torch.randn(2000, 2, dtype=torch.float64)
    filled = pvae.holes(IdentityCodes(scale=0.5), x, draws=2000, seed=1)
    assert filled.prior.share < 0.03 and filled.interpolation.share < 0.03
    assert filled.coverage > 0.9
    apart = pvae.holes(IdentityCodes(scale=0.5), two_clusters(2000), draws=2000, seed=1)
    assert apart.coverage < 0.2 < filled.coverage


def test_the_measure_is_repeatable_from_its_seed():
    x = two_clusters(100)
    first, second = (pvae.holes(IdentityCodes(0.5), x, seed=3) for _ in range(2))
    assert torch.equal(first.prior.distance, second.prior.distance)


@pytest.mark.parametrize("call, error, message", [
    (lambda x: pvae.holes(object(), x), pvae.PairError, "no model/guide pair"),
    (lambda x: pvae.holes(IdentityCodes(), x[:0]), ValueError, "empty|at least"),
    (lambda x: pvae.holes(IdentityCodes(), x[:2]), ValueError, "at least 3 rows"),
    (lambda x: pvae.holes(IdentityCodes(), x, draws=0), ValueError, "draws"),
    (lambda x: pvae.holes(IdentityCodes(), x, draws=10**9), ValueError, "more than any"),
    (lambda x: hole_distances(torch.zeros(4, 3), x), ValueError, "latent's width"),
    (lambda x: hole_distances(torch.full((4, 2), float("nan")), x), ValueError, "NaN"),
    (lambda x: hole_distances(x, x[:1]), ValueError, "at least 2"),
    (lambda x: hole_distances(x, torch.zeros(5, 2)), ValueError, "coincide"),
])
def test_bad_input_is_named(call, error, message):
    with pytest.raises(error, match=message):
        call(two_clusters(20))
