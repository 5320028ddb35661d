import math

import pyro
import pyro.distributions as dist
import pytest
import torch
from pyro.infer import Trace_ELBO
from pyro.nn import PyroModule, PyroParam, pyro_method

import pvae
from pvae import Gaussian, GaussianMixture, NonFiniteLossError


class LatentMean(PyroModule):
    """A tiny pair with a real guide: z ~ N(0, 1), x_i ~ N(z, 1); q(z) = N(m, s)."""

    def __init__(self):
        super().__init__()
        self.m = PyroParam(torch.tensor(0.0))
        self.s = PyroParam(torch.tensor(1.0), constraint=dist.constraints.positive)

    @pyro_method
    def model(self, x, num_data=None):
        z = pyro.sample("z", dist.Normal(x.new_zeros(()), 1.0))
        with pyro.plate("data", num_data or len(x), subsample=torch.arange(len(x))):
            pyro.sample("x", dist.Normal(z, 1.0), obs=x)

    @pyro_method
    def guide(self, x, num_data=None):
        pyro.sample("z", dist.Normal(self.m, self.s))

    def objective(self):
        return Trace_ELBO(num_particles=8, vectorize_particles=True, max_plate_nesting=1)


def test_a_pair_with_a_guide_reaches_the_exact_posterior():
    x = torch.randn(200) + 3.0
    pair = LatentMean()
    pvae.fit(pair, x, steps=2000, lr=0.1, lr_decay=0.01, seed=0, progress=False)
    # conjugate: p(z | x) = N(sum x / (N + 1), 1 / (N + 1))
    assert float(pair.m.detach()) == pytest.approx(float(x.sum()) / 201, abs=0.02)
    assert float(pair.s.detach()) == pytest.approx(1 / math.sqrt(201), rel=0.05)


def test_same_seed_same_losses():
    x = torch.randn(300)
    runs = []
    for _ in range(2):
        pyro.clear_param_store()  # LatentMean keeps its parameters in the global store
        runs.append(pvae.fit(LatentMean(), x, steps=30, seed=11, progress=False).losses)
    assert runs[0] == runs[1]


def test_a_non_finite_loss_stops_with_the_step_and_keeps_the_parameters():
    class Explodes(LatentMean):
        @pyro_method
        def model(self, x, num_data=None):
            z = pyro.sample("z", dist.Normal(x.new_zeros(()), 1.0))
            broken = torch.where(self.m > 0.05, torch.nan, 1.0)  # NaN once m moves far enough
            with pyro.plate("data", len(x)):
                pyro.sample("x", dist.Normal(z * broken, 1.0), obs=x)

    pair = Explodes()
    pyro.enable_validation(False)  # let the NaN reach the loss instead of the validator
    with (
        pytest.raises(NonFiniteLossError, match=r"at step \d+") as error,
        pytest.warns(UserWarning, match="Encountered NaN"),
    ):
        pvae.fit(pair, torch.ones(5) * 10, steps=100, lr=0.01, progress=False)
    step = int(str(error.value).split("at step ")[1].split()[0])
    assert step > 0
    assert torch.isfinite(pair.m.detach()) and torch.isfinite(pair.s.detach())


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"method": "newton"}, ValueError, "unknown method 'newton'; choose one of svi, em"),
        ({"optimizer": "adamm"}, ValueError, "unknown optimizer 'adamm'"),
        ({"steps": 5, "epochs": 5}, ValueError, "either steps or epochs"),
        ({"steps": 0}, ValueError, "steps must be a positive integer"),
        ({"batch_size": 0}, ValueError, "batch_size must be a positive integer"),
        ({"lr": -1.0}, ValueError, "lr > 0"),
        ({"lr": float("nan")}, ValueError, "lr must be positive and finite"),
        ({"device": "tpu"}, ValueError, "unknown device 'tpu'"),
        ({"seed": "abc"}, ValueError, "seed must be None or an integer"),
        ({"time_limit": 0}, ValueError, "time_limit must be positive"),
        ({"method": "em", "max_iter": 0}, ValueError, "max_iter must be a positive integer"),
        ({"steps": 10**12}, ValueError, "more than any run needs"),
        ({"n_init": 3}, ValueError, "needs a pair with initialize"),
        ({"method": "em"}, ValueError, "closed-form m_step"),
        ({"device": "cuda"}, ValueError, "CUDA is not available") if not torch.cuda.is_available()
        else ({"device": "nonsense"}, ValueError, "unknown device 'nonsense'"),
    ],
)
def test_bad_options_are_refused(options, error, message):
    with pytest.raises(error, match=message):
        pvae.fit(LatentMean(), torch.randn(10), progress=False, **options)


def test_not_a_pair():
    with pytest.raises(TypeError, match="callable .model"):
        pvae.fit(object(), [1.0, 2.0])


def test_device_auto_lands_on_cpu_here():
    result = pvae.fit(Gaussian(), torch.randn(20), steps=2, progress=False)
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert result.device.startswith(expected)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_fits_on_cuda():
    x = torch.randn(500, 2).double()
    mixture = GaussianMixture(2)
    result = pvae.fit(mixture, x, method="em", device="cuda", seed=0, progress=False)
    assert mixture.locs.device.type == "cuda" and result.converged
    on_cpu = GaussianMixture(2)
    pvae.fit(on_cpu, x, method="em", device="cpu", seed=0, progress=False)
    torch.testing.assert_close(mixture.log_likelihood(x).cpu(), on_cpu.log_likelihood(x))
