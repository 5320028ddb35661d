"""A resume state is checked against the fit it continues before anything is loaded."""

import dataclasses

import pytest
import torch

import pvae
from pvae.train.resume import ResumeError

X = torch.rand(60, 64).round()


def small_vae(z_dim=2):
    return pvae.VAE((64,), z_dim, encoder={"name": "mlp", "hidden": [8]},
                    decoder={"name": "mlp", "hidden": [8]})


@pytest.fixture(scope="module")
def run():
    states = []
    vae = small_vae()
    result = pvae.fit(vae, X, epochs=2, batch_size=20, progress=False, device="cpu", seed=0,
                      on_epoch_end=states.append)
    return result, states


def fit_from(state, pair=None, **options):
    settings = {"epochs": 2, "batch_size": 20, "progress": False, "device": "cpu", **options}
    return pvae.fit(pair or small_vae(), X, resume=state, **settings)


@pytest.mark.parametrize(("change", "options", "message"), [
    ({}, {"optimizer": "sgd"}, "another optimiser than this fit's SGD"),
    ({"rng": {}}, {}, "rng must hold the generators"),
    ({"rng": "x"}, {}, "rng must hold the generators"),
    ({"step": -5}, {}, "step must be a whole number >= 0"),
    ({"epoch": 1.5}, {}, "epoch must be a whole number"),
    ({}, {"batch_size": 30}, "made 3 steps per epoch"),
    ({}, {"batch_size": 21}, "had batch_size 20, this fit has 21"),
    ({"losses": [float("nan")] * 3}, {}, "losses must be 3 finite numbers"),
    ({"optimizer": {"a": 1}}, {}, "not an optimiser's state_dict"),
    ({"optimizer": {}}, {}, "holds no optimiser state"),
    ({"history": None}, {}, "history must be a History"),
])
def test_a_state_that_does_not_fit_is_refused_naming_what_differs(run, change, options,
                                                                  message):
    state = dataclasses.replace(run[1][0], **change)
    with pytest.raises(ResumeError, match=message):
        fit_from(state, **options)


def test_a_state_past_the_runs_end_is_refused(run):
    with pytest.raises(ResumeError, match="past this fit's 3 steps"):
        fit_from(run[1][1], epochs=None, steps=3)


def test_a_state_of_a_model_of_another_size_is_refused_before_the_optimiser_sees_it(run):
    with pytest.raises(ResumeError, match=r"'exp_avg' of parameter \d+ has shape"):
        fit_from(run[1][0], small_vae(z_dim=5), reinitialize=False)


def test_a_good_state_still_continues_the_run_exactly():
    torch.manual_seed(1)
    whole = pvae.fit(small_vae(), X, epochs=2, batch_size=20, progress=False, device="cpu",
                     seed=0)
    torch.manual_seed(1)
    vae, first = small_vae(), []
    pvae.fit(vae, X, epochs=1, batch_size=20, progress=False, device="cpu", seed=0,
             on_epoch_end=first.append)
    resumed = fit_from(first[0], vae)
    assert resumed.losses == whole.losses
    assert first[0].batch_size == 20 and first[0].num_data == 60
