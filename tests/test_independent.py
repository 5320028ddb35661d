import pyro.distributions as dist
import pytest
import torch

from pvae.independent import LeanIndependent


@pytest.mark.parametrize("event_dims", [0, 1, 2])
def test_the_same_density_as_pyros_independent(event_dims):
    loc, scale = torch.randn(3, 4, 5, dtype=torch.float64), torch.rand(3, 4, 5) + 0.5
    base = dist.Normal(loc, scale.double())
    value = torch.randn(7, 3, 4, 5, dtype=torch.float64)
    ours, pyros = LeanIndependent(base, event_dims), dist.Independent(base, event_dims)
    assert ours.batch_shape == pyros.batch_shape and ours.event_shape == pyros.event_shape
    torch.testing.assert_close(ours.log_prob(value), pyros.log_prob(value), rtol=1e-12,
                               atol=1e-12)


def test_expanding_to_its_own_shape_is_itself_and_any_other_is_pyros():
    ours = LeanIndependent(dist.Normal(torch.zeros(4, 3), torch.ones(4, 3)), 1)
    assert ours.expand((4,)) is ours and ours.expand(torch.Size([4])) is ours
    wider = ours.expand((2, 4))
    assert wider.batch_shape == (2, 4) and wider.event_shape == (3,)
    torch.testing.assert_close(wider.log_prob(torch.zeros(2, 4, 3)),
                               ours.log_prob(torch.zeros(4, 3)).expand(2, 4))
    with pytest.raises((ValueError, RuntimeError)):
        ours.expand((5,))
