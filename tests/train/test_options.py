"""fit's settings are declared once, in FitOptions: the signature, the checks, the defaults."""

import dataclasses
import inspect

import pytest
import torch

import pvae
from pvae.train import DEFAULTS, FitOptions
from pvae.train.options import DEFAULT_STEPS, OPTION_NAMES


def test_fit_takes_exactly_the_options_in_their_order_with_their_defaults():
    parameters = list(inspect.signature(pvae.fit).parameters.values())
    assert [p.name for p in parameters[:2]] == ["pair", "data"]
    keywords = parameters[2:]
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in keywords)
    assert tuple(p.name for p in keywords) == OPTION_NAMES
    for parameter, option in zip(keywords, dataclasses.fields(FitOptions), strict=True):
        assert parameter.default == option.default, parameter.name
        assert parameter.default == getattr(DEFAULTS, parameter.name), parameter.name


def test_options_are_frozen_and_normalised():
    options = FitOptions(lr=1, steps=3, tol=0)
    assert options.lr == 1.0 and isinstance(options.lr, float)
    with pytest.raises(dataclasses.FrozenInstanceError):
        options.lr = 2.0  # type: ignore[misc]
    assert options.target_device == torch.device("cpu") or torch.cuda.is_available()


@pytest.mark.parametrize(("settings", "message"), [
    ({"method": "mcmc"}, "unknown method 'mcmc'"),
    ({"steps": 2, "epochs": 2}, "either steps or epochs"),
    ({"optimizer": "adamm"}, "unknown optimizer 'adamm'"),
    ({"lr": float("nan")}, "lr"),
    ({"max_iter": 10**9}, "more than any run needs"),
    ({"device": "tpu"}, "unknown device 'tpu'"),
    ({"resume": {"step": 3}}, "resume must be a TrainingState"),
    ({"progress": 1}, "progress must be True or False"),
])
def test_every_bad_setting_is_refused_by_name(settings, message):
    with pytest.raises(ValueError, match=message):
        FitOptions(**settings)


def test_neither_steps_nor_epochs_trains_the_default_number_of_steps():
    result = pvae.fit(pvae.Gaussian(dim=2), torch.randn(30, 2), lr=0.1, progress=False,
                      device="cpu")
    assert result.steps == DEFAULT_STEPS
