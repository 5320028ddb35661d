"""Hostile input for the entry points added after tests/test_fuzz.py: the same contract.

Resume states, engine specs, every estimator and diagnostic, foreign pairs, the objectives and
the command line's evaluate options: each call returns, or raises one of pvae's own one-line
errors from pvae's code (the CLI: exit status 2, never 1).
"""

import dataclasses

import pyro
import pyro.distributions as dist
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import pvae
from pvae.app.cli import main
from pvae.estimate import Estimate
from pvae.objectives import objectives
from pvae.train import FitOptions, TrainingState

from .test_fuzz import SETTINGS, WRONG, call, small_vae

pytestmark = [pytest.mark.filterwarnings("ignore::UserWarning"),
              pytest.mark.filterwarnings("ignore::RuntimeWarning")]
FEW = settings(SETTINGS, max_examples=20)
X = torch.rand(24, 64).round()


def _state():
    states = []
    pvae.fit(small_vae(), X, epochs=1, batch_size=12, progress=False, device="cpu", seed=0,
             on_epoch_end=states.append)
    return states[0]


STATE = _state()


@FEW
@given(field=st.sampled_from([f.name for f in dataclasses.fields(TrainingState)]),
       value=WRONG)
def test_any_resume_state(field, value):
    state = dataclasses.replace(STATE, **{field: value})
    call(pvae.fit, small_vae(), X, epochs=2, batch_size=12, progress=False, device="cpu",
         resume=state)


def test_a_state_of_another_size_is_refused_not_a_crash():
    """The crash of the issue: a z_dim=2 Adam state loaded into a z_dim=5 VAE's fused kernel."""
    bigger = pvae.VAE((64,), 5, encoder={"name": "mlp", "hidden": [4]},
                      decoder={"name": "mlp", "hidden": [4]})
    with pytest.raises(ValueError, match="from a model of another size"):
        pvae.fit(bigger, X, epochs=2, batch_size=12, resume=STATE, reinitialize=False,
                 progress=False, device="cpu")


@FEW
@given(key=st.sampled_from(["devices", "num_nodes", "strategy", "precision", "name", "x"]),
       value=WRONG)
def test_any_engine_spec(key, value):
    """Checked when the settings are, before any work (a valid spec would start processes)."""
    call(FitOptions, engine={"name": "lightning", key: value})


@FEW
@given(option=st.sampled_from(["steps", "chains", "leapfrog", "target_acceptance", "start",
                               "batch_size", "seed", "samples", "draws", "paths", "quantile",
                               "lr", "ais_steps", "n", "ks"]),
       value=WRONG)
def test_every_estimator_any_option(option, value):
    vae, x = small_vae(), X[:6]
    ais_options = {"steps": 2, "chains": 2}
    if option in ("steps", "chains", "leapfrog", "target_acceptance", "start", "batch_size"):
        call(pvae.ais, vae, x, **{**ais_options, option: value})
        call(pvae.bdmc, vae, 3, **{**ais_options, option: value}, ks=(2,))
    if option in ("steps", "lr", "ais_steps", "batch_size"):
        call(pvae.gaps, vae, x, **{"steps": 2, "ais_steps": 2, option: value})
    if option in ("samples",):
        call(pvae.latent_usage, vae, x, samples=value)
    if option in ("draws", "paths", "steps", "quantile", "seed"):
        call(pvae.holes, vae, x, **{"draws": 20, "paths": 5, "steps": 2, option: value})
    if option == "n":
        call(pvae.bdmc, vae, value, steps=2, chains=2, ks=(2,))
    if option == "ks":
        call(pvae.iwae_ladder, vae, x, value)


@FEW
@given(values=st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=0, max_size=4),
       other=st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=0, max_size=4))
def test_compare_any_estimates(values, other):
    def estimate(numbers):
        per_datapoint = torch.tensor(numbers, dtype=torch.float64)
        return Estimate("e", float(per_datapoint.mean()) if numbers else 0.0, 0.0,
                        per_datapoint, 1)

    call(pvae.compare, {"a": estimate(values), "b": estimate(other)})
    call(pvae.gaps, small_vae(), X[:len(values)] if values else X[:2], steps=1,
         log_likelihood=estimate(values))


def _model(x, num_data=None):
    with pyro.plate("data", x.shape[0]):
        z = pyro.sample("z", dist.Normal(torch.zeros(()), 1.0))
        pyro.sample("x", dist.Poisson(z.exp()), obs=x)


def _guide(x, num_data=None):
    scale = pyro.param("scale", torch.tensor(1.0), constraint=dist.constraints.positive)
    with pyro.plate("data", x.shape[0]):
        pyro.sample("z", dist.Normal(torch.log1p(x.abs()), scale))


@FEW
@given(values=st.lists(st.floats(-3, 5) | st.sampled_from([0.5, -1.0, float("nan")]),
                       min_size=1, max_size=6))
def test_a_foreign_pair_on_any_data(values):
    pair = pvae.Pair(_model, _guide)
    x = torch.tensor(values)
    call(pvae.fit, pair, x, steps=2, progress=False)
    call(pvae.elbo, pair, x)
    call(pvae.iwae, pair, x, k=3)


@FEW
@given(model=st.sampled_from([None, 3, "model", _model]),
       guide=st.sampled_from([None, 3, "guide", _guide]))
def test_pair_of_anything(model, guide):
    pair = call(pvae.Pair, model, guide)
    if pair is not None:
        call(pvae.fit, pair, torch.ones(4), steps=1, progress=False)


@FEW
@given(name=st.sampled_from(["elbo", "meanfield", "iwae"]),
       key=st.sampled_from(["num_particles", "jit", "k", "gradient", "bound", "x"]),
       value=WRONG)
def test_any_objective_spec(name, key, value):
    objective = call(objectives.resolve, {"name": name, key: value})
    if objective is not None:
        call(pvae.fit, pvae.VAE((64,), 2, encoder={"name": "mlp", "hidden": [4]},
                                decoder={"name": "mlp", "hidden": [4]},
                                objective={"name": name, key: value}),
             X, steps=1, progress=False)


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    config = out / "tiny.toml"
    config.write_text('[data]\nname = "digits"\ntransform = "binarize"\n'
                      '[model]\nname = "vae"\nx_shape = [64]\nz_dim = 2\n'
                      '[train]\nepochs = 1\nbatch_size = 256\n')
    assert main(["train", str(config), "--out", str(out), "--no-progress"]) == 0
    return out / "checkpoint.pt"


@FEW
@given(flag=st.sampled_from(["--k", "--n", "--ais", "--bdmc", "--chains", "--start"]),
       value=st.sampled_from(["0", "-3", "abc", "1e9", "2", "prior", "nan"]))
def test_evaluate_any_option(checkpoint, flag, value):
    try:
        status = main(["evaluate", str(checkpoint), "--n", "4", "--k", "2", flag, value,
                       "--no-progress"])
    except SystemExit as stop:  # argparse refuses a value of the wrong type: status 2
        status = stop.code
    assert status in (0, 2)
