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
])
def test_every_bad_setting_is_refused_by_name(settings, message):
    with pytest.raises(ValueError, match=message):
        FitOptions(**settings)


def test_flags_are_booleans():
    with pytest.raises(TypeError, match="progress must be True or False; got 1"):
        FitOptions(progress=1)


def test_neither_steps_nor_epochs_trains_the_default_number_of_steps():
    result = pvae.fit(pvae.Gaussian(dim=2), torch.randn(30, 2), lr=0.1, progress=False,
                      device="cpu")
    assert result.steps == DEFAULT_STEPS


@pytest.mark.parametrize(("settings", "message"), [
    ({"method": "em", "lr_decay": 0.5}, "method='em' does not use lr_decay"),
    ({"method": "em", "kl_warmup": 3, "batch_size": 5}, "does not use batch_size, kl_warmup"),
    ({"method": "em", "validation": torch.zeros(3, 2)}, "does not use validation"),
    ({"method": "svi", "max_iter": 5}, "method='svi' does not use max_iter"),
])
def test_a_setting_the_method_never_reads_is_refused(settings, message):
    with pytest.raises(ValueError, match=message):
        FitOptions(**settings)


def test_kl_warmup_needs_a_pair_with_a_kl_weight():
    with pytest.raises(ValueError, match="kl_warmup ramps a KL weight, and Gaussian has none"):
        pvae.fit(pvae.Gaussian(dim=2), torch.randn(20, 2), kl_warmup=3, steps=5,
                 progress=False)


def test_em_keeps_to_its_time_limit():
    x = torch.cat([torch.randn(200, 2) - 3, torch.randn(200, 2) + 3])
    result = pvae.fit(pvae.GaussianMixture(2), x, method="em", max_iter=10**6, tol=0.0,
                      time_limit=0.2, progress=False)
    assert result.converged is False and 1 <= result.steps < 10**6


def test_a_time_limit_shorter_than_a_step_still_takes_one():
    result = pvae.fit(pvae.Gaussian(dim=2), torch.randn(20, 2), steps=50, time_limit=1e-9,
                      progress=False)
    assert result.steps == 1


def test_an_engine_that_returns_something_else_is_named():
    class Broken(pvae.train.Engine):
        name = "broken"

        def run(self, pair, plan):
            return 3

    with pytest.raises(TypeError, match="engine 'broken' returned 'int', not a FitResult"):
        pvae.fit(pvae.Gaussian(dim=2), torch.randn(20, 2), engine=Broken(), progress=False)
