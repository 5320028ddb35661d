"""A foreign pair's data is checked by its own model, on every row, before any training."""

import pyro
import pyro.distributions as dist
import pytest
import torch
from pyro.infer.autoguide import AutoNormal

import pvae
from pvae.pair import check_observations


def poisson_model(x, num_data=None):
    rate = pyro.param("rate", torch.tensor(2.0), constraint=dist.constraints.positive)
    with pyro.plate("data", x.shape[0]):
        pyro.sample("x", dist.Poisson(rate), obs=x)


def no_guide(x, num_data=None):
    pass


def test_counts_outside_the_support_are_a_data_error_naming_the_rows_before_any_step():
    counts = torch.tensor([1.0, 2.0, 3.0, 4.0] * 10)
    counts[[17, 33]] = -1.0  # not in the first minibatch
    seen = []
    with pytest.raises(pvae.DataError, match=r"outside the support .* on 2 row\(s\) \(17, 33\)"):
        pvae.fit(pvae.Pair(poisson_model, no_guide), counts, steps=5, batch_size=8,
                 progress=False, on_epoch_end=seen.append)
    assert seen == []
    check_observations(pvae.Pair(poisson_model, no_guide), counts.clamp(min=0))


def local_model(x, num_data=None):
    with pyro.plate("data", x.shape[0]):
        z = pyro.sample("z", dist.Normal(torch.zeros(()), 1.0))
        pyro.sample("x", dist.Normal(z, 1.0), obs=x)


def test_a_guide_that_makes_nan_from_finite_parameters_is_a_pair_error():
    def guide(x, num_data=None):
        w = pyro.param("w", torch.tensor(1.0))
        with pyro.plate("data", x.shape[0]):
            pyro.sample("z", dist.Normal(w * torch.log(x - 10), 1.0))

    with pytest.raises(pvae.PairError, match="at step 0 the pair built a distribution"):
        pvae.fit(pvae.Pair(local_model, guide), torch.rand(20), steps=3, progress=False)


def global_model(x, num_data=None):
    mu = pyro.sample("mu", dist.Normal(torch.zeros(x.shape[1]), 1.0).to_event(1))
    with pyro.plate("data", x.shape[0]):
        pyro.sample("x", dist.Normal(mu.expand(x.shape[0], -1), 1.0).to_event(1), obs=x)


def global_guide(x, num_data=None):
    loc = pyro.param("global_loc", torch.zeros(x.shape[1]))
    pyro.sample("mu", dist.Normal(loc, 1.0).to_event(1))


@pytest.mark.parametrize("rows", [1, 2, 3, 7])
def test_global_latents_get_the_same_pair_error_at_every_size(rows):
    with pytest.raises(pvae.PairError, match=r"latent site\(s\) \['mu'\] are global"):
        pvae.elbo(pvae.Pair(global_model, global_guide), torch.randn(rows, 2))


@pytest.mark.parametrize("rows", [1, 2, 5])
def test_a_per_row_autoguide_gets_the_same_pair_error_at_every_size(rows):
    pair = pvae.Pair(local_model, AutoNormal(local_model))
    x = torch.randn(20)
    pvae.fit(pair, x, steps=2, progress=False)
    with pytest.raises(pvae.PairError, match="AutoNormal keeps one q per training row"):
        pvae.elbo(pair, x[:rows])
