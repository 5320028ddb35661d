import math

import numpy as np
import pyro
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from pyro.infer import SVI, Trace_ELBO
from pyro.optim import Adam

import pvae
from pvae import DataError, Gaussian

# Adam moves a parameter by about lr per step, whatever the data's units: enough steps and a
# large enough rate to cross a few standard deviations of the widest data below, then decay.
FIT = {"steps": 1500, "lr": 0.2, "lr_decay": 1e-3, "progress": False}


def test_closed_form_is_mean_and_biased_std(rng):
    x = rng.normal(3.0, 2.0, size=(50, 3))
    loc, scale = Gaussian.closed_form(x)
    np.testing.assert_allclose(loc.numpy(), x.mean(0))
    np.testing.assert_allclose(scale.numpy(), x.std(0, ddof=0))  # the 1/N variance


@settings(max_examples=12, deadline=None)
@given(
    n=st.integers(5, 400),
    loc=st.floats(-10, 10),
    log10_scale=st.floats(-1, 1),
    seed=st.integers(0, 2**16),
)
def test_svi_reaches_the_closed_form(n, loc, log10_scale, seed):
    pyro.clear_param_store()
    generator = torch.Generator().manual_seed(seed)
    x = loc + 10**log10_scale * torch.randn(n, generator=generator)
    gaussian = Gaussian()
    pvae.fit(gaussian, x, seed=seed, **FIT)
    mle_loc, mle_scale = Gaussian.closed_form(x)
    # loc relative to the spread (loc itself may be ~0), scale relative to itself
    assert abs(float(gaussian.loc.detach() - mle_loc)) <= 1e-3 * float(mle_scale)
    assert abs(float(gaussian.scale.detach() / mle_scale) - 1) <= 1e-3


def test_vector_data_in_float64(rng, dtype):
    x = torch.as_tensor(rng.normal([1.0, -2.0], [0.5, 3.0], size=(300, 2)), dtype=dtype)
    gaussian = Gaussian(dim=2)
    result = pvae.fit(gaussian, x, seed=1, **FIT)
    assert gaussian.loc.dtype == dtype
    mle_loc, mle_scale = Gaussian.closed_form(x)
    tolerance = 1e-3 * float(mle_scale.min())
    torch.testing.assert_close(gaussian.loc.detach(), mle_loc, atol=tolerance, rtol=0)
    torch.testing.assert_close(gaussian.scale.detach(), mle_scale, rtol=1e-3, atol=0)
    # the loss is the negative mean log-likelihood
    assert result.final_loss == pytest.approx(-float(gaussian.log_likelihood(x).mean()), rel=1e-4)


def test_log_likelihood_is_the_normal_density(rng):
    x = rng.normal(size=20)
    gaussian = Gaussian()
    expected = -0.5 * x**2 - 0.5 * math.log(2 * math.pi)  # loc 0, scale 1
    np.testing.assert_allclose(gaussian.log_likelihood(x).numpy(), expected, rtol=1e-5)


def test_plain_pyro_svi_trains_the_pair(rng):
    x = torch.as_tensor(rng.normal(4.0, 2.0, size=200), dtype=torch.float32)
    gaussian = Gaussian()
    svi = SVI(gaussian.model, gaussian.guide, Adam({"lr": 0.1}), Trace_ELBO())
    for _ in range(1500):
        svi.step(x)
    mle_loc, mle_scale = Gaussian.closed_form(x)
    assert float(gaussian.loc.detach()) == pytest.approx(float(mle_loc), abs=0.02)
    assert float(gaussian.scale.detach()) == pytest.approx(float(mle_scale), rel=0.02)


def test_two_models_do_not_share_parameters(rng):
    x = rng.normal(5.0, 1.0, size=50)
    first, second = Gaussian(), Gaussian()
    pvae.fit(first, x, steps=50, lr=0.1, progress=False)
    assert float(second.loc.detach()) == 0.0 and float(second.scale.detach()) == 1.0


@pytest.mark.parametrize(
    ("model", "data", "message"),
    [
        (Gaussian(), np.ones((5, 2)), r"must be 1-D"),
        (Gaussian(dim=3), np.ones((5, 2)), r"dim=3 .* \(N, 3\)"),
        (Gaussian(), [1.0], "at least 2 observations"),
        (Gaussian(), [2.0, 2.0, 2.0], "zero variance"),
        (Gaussian(), [1.0, float("nan")], "NaN"),
    ],
    ids=["matrix-for-scalar", "wrong-dim", "one-point", "constant", "nan"],
)
def test_bad_data_is_refused_before_fitting(model, data, message):
    with pytest.raises(DataError, match=message):
        pvae.fit(model, data, steps=1, progress=False)
    assert float(model.scale.detach().reshape(-1)[0]) == 1.0  # nothing was touched


@pytest.mark.parametrize("dim", [0, -2, 1.5])
def test_bad_dim(dim):
    with pytest.raises(ValueError, match="dim must be"):
        Gaussian(dim=dim)


def test_set_closed_form(rng):
    x = rng.normal(2.0, 3.0, size=(100, 2))
    gaussian = Gaussian(dim=2).double()
    gaussian.set_closed_form(x)
    loc, scale = Gaussian.closed_form(x)
    torch.testing.assert_close(gaussian.loc.detach(), loc)
    torch.testing.assert_close(gaussian.scale.detach(), scale)


@pytest.mark.parametrize("shift, spread", [(0.0, 1.0), (152.0, 77.0), (-3e4, 1e3), (5.0, 1e-3)])
def test_the_readme_settings_reach_the_closed_form_at_any_location_and_scale(shift, spread):
    from sklearn.datasets import load_diabetes

    target = torch.as_tensor(load_diabetes().target, dtype=torch.float64)  # mean 152, sd 77
    x = shift + spread * (target - target.mean()) / target.std()
    gaussian = Gaussian()
    result = pvae.fit(gaussian, x, seed=0, **FIT)
    mle_loc, mle_scale = Gaussian.closed_form(x)
    assert abs(float(gaussian.loc.detach() - mle_loc)) <= 1e-3 * float(mle_scale)
    assert abs(float(gaussian.scale.detach() / mle_scale) - 1) <= 1e-3
    assert result.converged is True
