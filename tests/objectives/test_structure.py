"""The lean path's cheap support check never vouches for a value Pyro's check refuses, and
vouches for the ordinary values of the usual likelihoods."""

import pyro.distributions as dist
import pytest
import torch

from pvae.objectives.structure import site_key
from pvae.pair import surely_in_support as in_support

LIKELIHOODS = {
    "bernoulli": (dist.Bernoulli(probs=torch.full((6, 3), 0.3)).to_event(1), True),
    "poisson": (dist.Poisson(torch.full((6,), 2.0)), True),
    "binomial": (dist.Binomial(5, torch.full((6,), 0.4)), False),  # tensor bounds: Pyro's
    "categorical": (dist.Categorical(logits=torch.zeros(6, 4)), True),
    "beta": (dist.Beta(torch.full((6,), 2.0), 2.0), True),
    "continuous-bernoulli": (dist.ContinuousBernoulli(probs=torch.full((6,), 0.3)), True),
    "gamma": (dist.Gamma(torch.full((6,), 2.0), 1.0), True),
    "exponential": (dist.Exponential(torch.full((6,), 1.0)), True),
    "log-normal": (dist.LogNormal(torch.zeros(6), 1.0), True),
    "half-normal": (dist.HalfNormal(torch.full((6,), 1.0)), True),
    "normal": (dist.Normal(torch.zeros(6, 2), 1.0).to_event(1), True),
    "laplace": (dist.Laplace(torch.zeros(6), 1.0), True),
    "uniform": (dist.Uniform(-1.0, 2.0).expand([6]), True),
    "uniform-tensor-bounds": (dist.Uniform(torch.full((6,), -1.0), 2.0), False),
}
BAD = [0.0, 0.5, -1.0, -2.5, 1.5, 2.0, 7.0, float("nan"), float("inf"), -float("inf"), 1e-300]


@pytest.mark.parametrize("name", LIKELIHOODS)
def test_it_vouches_only_for_values_in_the_support(name):
    fn, vouches_for_samples = LIKELIHOODS[name]
    good = fn.sample().double()
    assert in_support(fn, good) is vouches_for_samples
    for bad in BAD:
        for position in (0, -1):
            value = good.clone()
            value.view(-1)[position] = bad
            if in_support(fn, value):
                assert bool(fn.support.check(value).all()), (name, bad)


def test_it_sends_what_it_cannot_judge_to_the_distribution():
    fn = dist.Normal(0.0, 1.0).expand([3])
    assert in_support(fn, torch.zeros(0))  # nothing to check
    assert not in_support(fn, torch.tensor([0, 1, 2]))  # integers: Pyro's own check
    assert not in_support(fn, [0.0, 1.0])  # not a tensor


def test_a_sites_structure_leaves_out_scales_and_masks_but_not_shapes_or_plates():
    fn = dist.Normal(torch.zeros(4), 1.0)
    frame = ("data", -1, 4, 0, 40)  # a plate's frame: name, dim, size, counter, full size
    base = {"name": "x", "is_observed": True, "fn": fn, "value": torch.zeros(4),
            "cond_indep_stack": (frame,), "infer": {}, "scale": 10.0, "mask": None}
    assert site_key(base) == site_key({**base, "scale": 3.0, "mask": torch.ones(4).bool()})
    assert site_key(base) != site_key({**base, "value": torch.zeros(4, 1)})
    assert site_key(base) != site_key({**base, "cond_indep_stack": ()})
    assert site_key(base) != site_key({**base, "infer": {"enumerate": "parallel"}})
    assert site_key(base) != site_key({**base, "fn": dist.Normal(torch.zeros(4), 1.0)
                                       .has_rsample_(False)})
