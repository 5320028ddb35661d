"""vae.model(None) generates data (the prior predictive), as Pyro's examples' models do."""

import pyro
import pytest
import torch
from pyro import poutine

import pvae


def test_model_with_no_data_draws_from_the_prior_predictive():
    vae = pvae.VAE(6, 2, likelihood="bernoulli", seed=0)
    one = vae.model(None)
    assert one.shape == (1, 6) and set(one.unique().tolist()) <= {0.0, 1.0}
    trace = poutine.trace(vae.model).get_trace(None, num_samples=500)
    x, z = trace.nodes["x"], trace.nodes["z"]
    assert not x["is_observed"] and x["value"].shape == (500, 6)
    assert z["value"].shape == (500, 2)
    # the pixels' frequencies are the decoded means averaged over the prior
    pyro.set_rng_seed(1)
    drawn = vae.model(None, num_samples=4000).mean(0)
    pyro.set_rng_seed(1)
    expected = vae.sample(4000).mean(0)
    assert torch.allclose(drawn, expected, atol=0.05)


def test_bad_use_of_num_samples_and_the_guide_without_data_are_one_line_errors():
    vae = pvae.VAE(6, 2, seed=0)
    for call, error, message in [
        (lambda: vae.model(None, num_samples=0), ValueError, "num_samples"),
        (lambda: vae.model(torch.ones(3, 6), num_samples=2), ValueError, "only with x=None"),
        (lambda: vae.model(None, num_data=10), ValueError, "num_data"),
        (lambda: vae.guide(None), ValueError, "guide encodes data"),
    ]:
        with pytest.raises(error, match=message) as raised:
            call()
        assert "\n" not in str(raised.value)
