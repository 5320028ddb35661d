import pytest
import torch

import pvae
from pvae.train.engines import Engine, LocalEngine, engines
from pvae.train.result import FitResult


class Recorder(Engine):
    """An engine that runs nothing and keeps the plan it was given."""

    name = "recorder"

    def __init__(self):
        self.plan = None

    def refuses(self, plan):
        return ["method='em'"] if plan.options.method == "em" else []

    def run(self, pair, plan):
        self.plan = plan
        return FitResult([0.0], plan.options.method, len(plan.x), None, 0.0, str(plan.device))


def test_registered_engines():
    assert {"pvae", "lightning"} <= set(engines.names())
    assert isinstance(engines.resolve("pvae"), LocalEngine)


def test_an_engine_receives_the_checked_plan():
    recorder = Recorder()
    x = torch.rand(40, 4, dtype=torch.float64).round()
    vae = pvae.VAE((4,), 1, encoder={"name": "mlp", "hidden": [3]},
                   decoder={"name": "mlp", "hidden": [3]})
    pvae.fit(vae, x, engine=recorder, epochs=3, batch_size=16, lr=0.2,
             lr_decay=0.5, kl_warmup=2, seed=4, device="cpu", progress=False)
    plan = recorder.plan
    assert plan.per_epoch == 3 and plan.total == 9 and plan.options.epochs == 3
    assert plan.schedule.lr == 0.2 and plan.schedule.lr_decay == 0.5
    assert plan.schedule.kl_warmup == 2 and plan.options.seed == 4 and plan.base_seed == 4
    assert plan.x.dtype == torch.float64 and plan.device == torch.device("cpu")


def test_what_an_engine_refuses_is_refused_before_any_work():
    with pytest.raises(ValueError, match="engine='recorder' does not take method='em'"):
        pvae.fit(pvae.GaussianMixture(2), torch.randn(30, 2), engine=Recorder(), method="em")
