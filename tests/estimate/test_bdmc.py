import pytest
import torch

import pvae
from pvae.estimate.bdmc import simulate

from .pca import closed_form_pca


def linear_gaussian():
    model, _ = closed_form_pca()
    with torch.no_grad():  # an imperfect guide: twice the exact posterior's scale
        model.posterior_scale_unconstrained.add_(torch.tensor(2.0).log())
    return model


def test_simulated_data_come_from_the_model():
    model = linear_gaussian()
    data = simulate(model, 4000)
    assert data.x.shape == (4000, 6) and data.z.shape == (4000, 2)
    # the marginal of x is N(b, W W^T + s^2 I)
    marginal = model.marginal()
    torch.testing.assert_close(data.x.mean(0), marginal.mean, atol=0.1, rtol=0)
    torch.testing.assert_close(torch.cov(data.x.T), marginal.covariance_matrix, atol=0.15,
                               rtol=0.1)


def test_the_sandwich_holds_the_exact_value_and_narrows():
    model = linear_gaussian()
    short = pvae.bdmc(model, 40, steps=10, chains=16, leapfrog=5, ks=(1, 10), seed=3)
    long = pvae.bdmc(model, 40, steps=300, chains=16, leapfrog=5, ks=(1, 10), seed=3)
    for sandwich in (short, long):
        exact = model.log_likelihood(sandwich.data.x)
        below = sandwich.lower.per_datapoint - exact
        above = sandwich.upper.per_datapoint - exact
        noise = 3 * (below.std() + above.std()) / len(exact) ** 0.5
        assert float(below.mean()) < noise and float(above.mean()) > -noise
        assert sandwich.elbo.value <= sandwich.iwae[-1].value + 1e-9
        assert sandwich.elbo.value < float(exact.mean())
    assert short.width > 0.05 and long.width < 0.03 and long.width < short.width / 3
    assert torch.equal(short.data.x, long.data.x)  # the seed fixes the simulated points


def test_the_callers_random_stream_is_left_alone():
    model = linear_gaussian()
    torch.manual_seed(5)
    expected = torch.rand(3)
    torch.manual_seed(5)
    pvae.bdmc(model, 5, steps=3, chains=2, ks=(2,))
    assert torch.equal(torch.rand(3), expected)


@pytest.mark.parametrize(("options", "message"), [
    ({"steps": 0}, "steps must be a positive integer"),
    ({"chains": -1}, "chains must be a positive integer"),
    ({"ks": ()}, "ks is empty"),
    ({"seed": "x"}, "seed must be None or an integer"),
])
def test_bad_settings_are_refused(options, message):
    with pytest.raises(ValueError, match=message):
        pvae.bdmc(linear_gaussian(), 5, **options)


def test_a_pair_that_cannot_simulate_says_why():
    with pytest.raises(ValueError, match="no x_shape"):
        pvae.bdmc(pvae.Gaussian(), 5, steps=2)
