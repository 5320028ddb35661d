import random

import numpy as np
import pytest
import torch

from pvae.randomness import seeded


def draws():
    return torch.rand(3), random.random(), float(np.random.rand())  # noqa: NPY002 (the legacy global one)


def test_a_seed_gives_the_same_draws_and_puts_every_generator_back():
    before = (torch.get_rng_state(), random.getstate(), np.random.get_state()[1].copy())  # noqa: NPY002
    with seeded(7):
        first = draws()
    with seeded(7):
        second = draws()
    assert torch.equal(first[0], second[0]) and first[1:] == second[1:]
    assert torch.equal(before[0], torch.get_rng_state())
    assert before[1] == random.getstate()
    assert np.array_equal(before[2], np.random.get_state()[1])  # noqa: NPY002
    with seeded(8):
        assert not torch.equal(torch.rand(3), first[0])


def test_no_seed_draws_from_the_global_generators():
    torch.manual_seed(3)
    expected = torch.rand(3)
    torch.manual_seed(3)
    with seeded(None):
        assert torch.equal(torch.rand(3), expected)


def test_the_generators_are_put_back_after_an_error():
    state = torch.get_rng_state()
    with pytest.raises(RuntimeError), seeded(1):
        torch.rand(2)
        raise RuntimeError("inside")
    assert torch.equal(state, torch.get_rng_state())


@pytest.mark.parametrize("seed", [-1, 2**32, 1.5, "0", True])
def test_a_bad_seed_is_refused_before_the_block_runs(seed):
    ran = []
    with pytest.raises(ValueError, match="seed must be None or an integer"), seeded(seed):
        ran.append(1)
    assert not ran
