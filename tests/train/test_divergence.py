import copy

import pytest
import torch

import pvae
from pvae import DivergenceError
from pvae.data import binarize, digits
from pvae.train.divergence import (
    EXPLOSION,
    SNAPSHOT_EVERY,
    DivergenceGuard,
    all_finite,
    gradients_finite,
)


def small_vae():
    torch.manual_seed(0)
    return pvae.VAE((64,), 2, encoder={"name": "mlp", "hidden": [16]},
                    decoder={"name": "mlp", "hidden": [16]})


@pytest.fixture(scope="module")
def images():
    return binarize(digits().train[:256])


def finite_and_usable(vae, images):
    assert all_finite([p.detach() for p in vae.parameters()])
    assert torch.isfinite(torch.tensor(pvae.elbo(vae, images[:20]).value))


@pytest.mark.parametrize(("optimizer", "lr"), [("adam", 1e6), ("sgd", 1e3)])
def test_a_diverging_fit_stops_and_leaves_the_model_where_it_was_good(images, optimizer, lr):
    vae = small_vae()
    start = copy.deepcopy(vae.state_dict())
    with pytest.raises(DivergenceError, match=r"diverged at step \d+ \(.*back as they were "
                                              r"before step 0\. Lower the learning rate"):
        pvae.fit(vae, images, steps=40, lr=lr, optimizer=optimizer, seed=0, progress=False)
    finite_and_usable(vae, images)
    for name, value in start.items():  # it diverged within the first snapshot's span
        assert torch.equal(vae.state_dict()[name], value), name


def test_the_guard_returns_to_the_newest_good_copy():
    guard = DivergenceGuard()
    weight = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([weight], lr=1.0)
    for step in range(3 * SNAPSHOT_EVERY):
        assert guard.problem(10.0 - step * 1e-3) is None
        guard.keep(step, [weight], optimizer)
        with torch.no_grad():
            weight.fill_(step)
    assert guard.kept_step == 2 * SNAPSHOT_EVERY
    assert guard.roll_back([weight], optimizer) == 2 * SNAPSHOT_EVERY
    assert float(weight.detach()) == 2 * SNAPSHOT_EVERY - 1  # the state before that step's update


def test_the_explosion_rule():
    guard = DivergenceGuard()
    assert guard.problem(-50.0) is None and guard.problem(-40.0) is None  # noise, a rise
    assert guard.problem(-50.0 + EXPLOSION * 51 * 0.99) is None
    assert "exploded" in guard.problem(-50.0 + EXPLOSION * 51 * 1.01)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16])
def test_the_fused_gradient_check_agrees_with_the_plain_one_and_leaves_them_alone(dtype):
    grads = [torch.randn(5, 3, dtype=dtype), torch.randn(7, dtype=dtype), torch.zeros(0)]
    kept = [g.clone() for g in grads]
    assert gradients_finite(grads) and all_finite(grads) and gradients_finite([])
    for bad in (float("nan"), float("inf"), -float("inf")):
        grads[1][4] = bad
        assert not gradients_finite(grads) and not all_finite(grads)
        grads[1][4] = kept[1][4]
    assert gradients_finite(grads)
    for grad, before in zip(grads, kept, strict=True):
        assert torch.equal(grad, before)  # scaled by exactly 1: untouched
    mixed = [torch.randn(3), torch.tensor([float("nan")], dtype=torch.float64)]
    assert not gradients_finite(mixed)


def test_the_gradient_check_is_exact_where_the_sums_overflow():
    huge = [torch.full((4,), 3e38), torch.full((2,), -3e38)]
    assert gradients_finite(huge)  # finite gradients, though their sums are not
    huge[0][1] = float("nan")
    assert not gradients_finite(huge)
