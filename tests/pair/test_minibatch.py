"""How a minibatch is scaled to the data set: by num_data, or by pvae's own handler."""

import pyro
import pyro.distributions as dist
import pytest
import torch
from pyro import poutine

import pvae
from pvae.pair.minibatch import DataPlateScale, minibatches, takes_num_data
from pvae.pair.protocol import data_plates


def model(x):
    """A global site, a fixed plate of 3 features, and a data plate (also 3 rows below)."""
    shift = pyro.sample("shift", dist.Normal(x.new_zeros(()), 1.0))
    with pyro.plate("features", 3):
        scale = pyro.sample("scale", dist.LogNormal(x.new_zeros(3), 1.0))
    with pyro.plate("rows", x.shape[0]):
        pyro.sample("x", dist.Normal(shift, scale).to_event(1), obs=x)


def test_only_sites_in_the_data_plate_are_scaled():
    x = torch.randn(3, 3)
    plates = data_plates(model, torch.randn(10, 3))
    assert plates == {"rows"}  # "features" has 3 rows too, but does not follow the data
    plain = poutine.trace(model).get_trace(x)
    scaled = poutine.trace(poutine.replay(DataPlateScale(4.0, plates)(model), plain)).get_trace(x)
    for name in ("shift", "scale"):
        assert scaled.nodes[name]["scale"] == 1.0
    assert scaled.nodes["x"]["scale"] == 4.0
    plain.compute_log_prob()
    scaled.compute_log_prob()
    expected = 4 * plain.nodes["x"]["log_prob_sum"]
    assert torch.allclose(scaled.nodes["x"]["log_prob_sum"], expected)


class WithNumData(torch.nn.Module):
    def forward(self, x, num_data=None):
        return x


def test_the_convention_is_read_from_the_signature():
    assert takes_num_data(WithNumData())
    assert takes_num_data(lambda x, num_data=None: x)
    assert not takes_num_data(lambda x, **kwargs: x)  # an autoguide's pass-through
    assert not takes_num_data(model)
    vae = pvae.VAE((4,), 1)
    assert minibatches(vae, torch.rand(10, 4), 5).plates is None  # pvae's own: num_data


@pytest.mark.parametrize("batch_size, rows, factor", [(5, 5, 2.0), (5, 3, 10 / 3), (None, 10, 1)])
def test_the_factor_is_n_over_the_rows_of_this_batch(batch_size, rows, factor):
    guide = lambda x: None  # noqa: E731 - a guide of the model's globals is not needed here
    pair = type("P", (), {"model": staticmethod(model), "guide": staticmethod(guide)})()
    plan = minibatches(pair, torch.randn(10, 3), batch_size)
    scaled_model, _, kwargs = plan.callables(pair, rows)
    assert kwargs == {}
    trace = poutine.trace(scaled_model).get_trace(torch.randn(rows, 3))
    assert float(trace.nodes["x"]["scale"]) == pytest.approx(factor)
