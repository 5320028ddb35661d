import copy
import random

import numpy as np
import pytest
import torch

import pvae
from pvae.data import digits, dynamic_binarization
from pvae.train.state import TrainingState, capture_rng, restore_rng


def test_restoring_the_generators_repeats_their_draws():
    state = capture_rng()
    first = (torch.rand(3), random.random(), np.random.rand())  # noqa: NPY002
    restore_rng(state)
    assert torch.equal(torch.rand(3), first[0])
    assert random.random() == first[1] and np.random.rand() == first[2]  # noqa: NPY002


def small_vae():
    return pvae.VAE((64,), 3, encoder={"name": "mlp", "hidden": [16]},
                    decoder={"name": "mlp", "hidden": [16]})


@pytest.mark.parametrize("stop_after", [1, 3])
def test_fit_resumed_from_an_epoch_equals_the_uninterrupted_fit(stop_after):
    x = digits().train[:400]
    options = {"epochs": 5, "batch_size": 96, "lr": 1e-2, "transform": dynamic_binarization,
               "kl_warmup": 9, "validation": x[:60], "progress": False, "lr_decay": 0.5}
    whole = small_vae()
    snapshots: list[tuple[TrainingState, dict]] = []
    expected = pvae.fit(whole, x, seed=7, on_epoch_end=lambda s: snapshots.append(
        (s, copy.deepcopy(whole.state_dict()))), **options)
    assert [s.epoch for s, _ in snapshots] == [1, 2, 3, 4, 5]
    state, parameters = snapshots[stop_after - 1]
    state = TrainingState.from_dict(state.to_dict())
    resumed = small_vae()
    resumed.load_state_dict(parameters)
    torch.rand(100)  # whatever happened in between does not matter
    result = pvae.fit(resumed, x, seed=12345, resume=state, **options)
    assert result.losses == expected.losses
    assert result.validation_losses == expected.validation_losses
    for name, value in whole.state_dict().items():
        assert torch.equal(value, resumed.state_dict()[name]), name


def test_resume_is_for_a_single_svi_run():
    state = TrainingState(step=1, epoch=1)
    with pytest.raises(ValueError, match="single SVI run"):
        pvae.fit(pvae.GaussianMixture(2), torch.randn(50, 2), method="em", resume=state)
