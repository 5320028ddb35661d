import pyro
import pyro.distributions as dist
import pytest
import torch

from pvae.pair.enumeration import EnumeratedLogJoint, enumerated_log_joint


def two_coins(x):
    """A mixture of two Bernoullis, written as plainly as possible."""
    weights = torch.tensor([0.3, 0.7])
    heads = torch.tensor([0.1, 0.8])
    with pyro.plate("data", len(x)):
        c = pyro.sample("c", dist.Categorical(weights), infer={"enumerate": "parallel"})
        pyro.sample("x", dist.Bernoulli(heads[c]), obs=x)


def test_table_is_log_weight_plus_log_component():
    x = torch.tensor([1.0, 0.0, 1.0])
    table = enumerated_log_joint(two_coins, x)
    expected = torch.tensor([[0.3 * 0.1, 0.3 * 0.9, 0.3 * 0.1],
                             [0.7 * 0.8, 0.7 * 0.2, 0.7 * 0.8]]).log()
    torch.testing.assert_close(table, expected)


def test_needs_exactly_one_enumerated_site():
    def no_discrete(x):
        with pyro.plate("data", len(x)):
            pyro.sample("x", dist.Normal(0.0, 1.0), obs=x)

    with pytest.raises(ValueError, match="exactly one enumerated discrete site; found none"):
        enumerated_log_joint(no_discrete, torch.zeros(3))


def test_replayed_table_follows_the_parameters():
    """After its first call, EnumeratedLogJoint puts the enumerated values back in: the
    table must still be the fresh enumeration's at the parameters of each call."""
    heads = torch.tensor([0.1, 0.8])

    def coins(x):
        with pyro.plate("data", len(x)):
            c = pyro.sample("c", dist.Categorical(torch.tensor([0.3, 0.7])),
                            infer={"enumerate": "parallel"})
            pyro.sample("x", dist.Bernoulli(heads[c]), obs=x)

    x = torch.tensor([1.0, 0.0, 1.0, 1.0])
    e_step = EnumeratedLogJoint(coins)
    for _ in range(3):
        torch.testing.assert_close(e_step(x), enumerated_log_joint(coins, x))
        heads.mul_(0.9)
    with pytest.raises(ValueError, match="exactly one enumerated discrete site"):
        EnumeratedLogJoint(lambda x: None)(x)
