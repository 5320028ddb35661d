import inspect
import math

import pytest
import torch

import pvae
from pvae.config import Config
from pvae.train.divergence import DivergenceError, NonFiniteLossError
from pvae.train.options import DEFAULTS
from pvae.train.step import OPTIMIZERS, Schedule, StepRules, optimizer_factory


def small_vae(beta=2.0):
    return pvae.VAE((4,), 2, beta=beta, encoder={"name": "mlp", "hidden": [4]},
                    decoder={"name": "mlp", "hidden": [4]})


def test_the_rate_decays_geometrically_from_lr_to_lr_times_decay():
    schedule = Schedule(lr=0.1, total=11, lr_decay=0.01)
    assert schedule.rate(0) == pytest.approx(0.1)
    assert schedule.rate(10) == pytest.approx(0.001)
    assert schedule.rate(5) == pytest.approx(0.01)  # the geometric midpoint
    assert schedule.rate(50) == pytest.approx(0.001)  # it stays at the end value
    assert Schedule(lr=0.1, total=1, lr_decay=0.5).rate(0) == pytest.approx(0.1)


def test_the_warm_up_ramps_to_one():
    schedule = Schedule(lr=1.0, total=10, kl_warmup=4)
    assert [schedule.ramp(t) for t in range(6)] == [0.25, 0.5, 0.75, 1.0, 1.0, 1.0]
    assert Schedule(lr=1.0, total=10).ramp(0) == 1.0


def test_the_core_weights_the_kl_term_and_gives_beta_back():
    vae = small_vae(beta=2.0)
    core = StepRules(vae, Schedule(lr=0.5, total=10, lr_decay=0.1, kl_warmup=4))
    with core.running():
        assert core.begin_step(0) == pytest.approx(0.5)
        assert vae.kl_weight == pytest.approx(0.5)  # beta * 1/4
        core.begin_step(1)
        assert vae.kl_weight == pytest.approx(1.0)
    assert vae.kl_weight == 2.0


def test_a_diverged_step_puts_the_last_good_state_back():
    core = StepRules(small_vae(), Schedule(lr=0.1, total=100))
    weight = torch.nn.Parameter(torch.ones(2))
    optimizer = torch.optim.SGD([weight], lr=0.1)
    core.check(5.0, 0, [weight], optimizer, [torch.ones(2)])  # good: kept
    with torch.no_grad():
        weight.fill_(7.0)
    with pytest.raises(NonFiniteLossError, match=r"diverged at step 3 \(the loss became nan\)"):
        core.check(math.nan, 3, [weight], optimizer)
    assert torch.equal(weight.detach(), torch.ones(2))
    with pytest.raises(NonFiniteLossError, match=r"at step 4 \(a gradient"):
        core.check(1.0, 4, [weight], optimizer, [torch.tensor([1.0, math.inf])])
    with pytest.raises(DivergenceError, match=r"exploded from its best, 5, to 1e\+06"):
        core.check(1e6, 5, [weight], optimizer)


def test_epoch_ends_record_the_history():
    vae = small_vae(beta=1.0)
    core = StepRules(vae, Schedule(lr=0.1, total=4))
    rows = torch.rand(6, 4).round()
    core.end_epoch(1, [3.0, 5.0], validation=rows, terms_on=rows)
    assert core.history.epoch == [1] and core.history.loss == [4.0]
    assert len(core.history.validation) == len(core.history.kl) == 1
    assert core.history.kl[0] > 0


def test_one_set_of_defaults_for_fit_and_configs():
    signature = inspect.signature(pvae.fit).parameters
    for name in ("lr", "lr_decay", "optimizer", "kl_warmup"):
        assert signature[name].default == getattr(DEFAULTS, name), name
    assert "lr" not in Config().train  # a config without lr trains at fit's default
    assert DEFAULTS.optimizer in OPTIMIZERS


def test_optimizers_by_name_or_callable():
    parameter = torch.nn.Parameter(torch.zeros(2))
    assert isinstance(optimizer_factory("sgd", 0.1)([parameter]), torch.optim.SGD)
    made = optimizer_factory(lambda params: torch.optim.Adam(params, lr=1.0), 0.1)
    assert made([parameter]).param_groups[0]["lr"] == 1.0
    with pytest.raises(ValueError, match="unknown optimizer 'adamm'"):
        optimizer_factory("adamm", 0.1)
    with pytest.raises(TypeError, match="a name .* or a callable"):
        optimizer_factory(3, 0.1)
