"""Hostile input, generated: every failure is one of pvae's errors, raised by pvae's own code.

Data of random dtypes, shapes and values, and options of wrong types and ranges, go into the
public entry points. Each call either returns, or raises an error whose innermost frame is a
``raise`` in pvae's source (not a traceback from inside torch, Pyro, numpy or zlib), and an
entry point that writes files writes nothing when it raises.
"""

import traceback
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pvae
from pvae.checkpoint import load_checkpoint
from pvae.config import load_config
from pvae.data import binarize, dequantize

SOURCE = Path(pvae.__file__).parent
#: the errors a user may see; anything else is a bug
USER_ERRORS = (ValueError, TypeError, OSError, ArithmeticError)
SETTINGS = settings(max_examples=40, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow,
                                           HealthCheck.function_scoped_fixture])

pytestmark = [pytest.mark.filterwarnings("ignore::UserWarning"),
              pytest.mark.filterwarnings("ignore::RuntimeWarning")]


def raised_by_pvae(error: BaseException) -> bool:
    frames = traceback.extract_tb(error.__traceback__)
    return bool(frames) and Path(frames[-1].filename).resolve().is_relative_to(SOURCE)


def call(function, *args, **kwargs):
    """Run ``function``; an error must be a user error that pvae raised itself."""
    try:
        return function(*args, **kwargs)
    except USER_ERRORS as error:
        assert raised_by_pvae(error), "".join(traceback.format_exception(error))
        assert "\n" not in str(error).strip() or isinstance(error, OSError), str(error)
        return None


DTYPES = st.sampled_from([np.float16, np.float32, np.float64, np.int64, np.uint8, np.bool_,
                          np.complex64, object])
VALUES = st.one_of(st.floats(allow_nan=True, allow_infinity=True, width=64),
                   st.sampled_from([0.0, 1.0, 0.5, -1.0, 1e300, -1e-300]))


@st.composite
def arrays(draw, max_rows=6, widths=(0, 1, 2, 3, 64)):
    dims = draw(st.integers(0, 3))
    shape = [draw(st.integers(0, max_rows))] + [draw(st.sampled_from(widths))
                                                 for _ in range(dims - 1)]
    values = draw(st.lists(VALUES, min_size=1, max_size=8))  # repeated to fill the shape
    dtype = draw(DTYPES)
    with np.errstate(all="ignore"):
        array = np.resize(np.asarray(values, dtype=np.float64), shape)
        if dtype is object:
            return array.astype(object)
        return array.astype(dtype)


WRONG = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.floats(allow_nan=True),
                  st.text(max_size=4), st.just([1, 2]), st.just({"a": 1}), st.just(10**12))
FIT_OPTIONS = ["steps", "epochs", "batch_size", "lr", "lr_decay", "optimizer", "n_init",
               "kl_warmup", "time_limit", "max_iter", "tol", "device", "seed", "method",
               "engine", "transform", "validation", "terms_on", "reinitialize", "progress"]


def small_vae():
    return pvae.VAE((64,), 2, encoder={"name": "mlp", "hidden": [4]},
                    decoder={"name": "mlp", "hidden": [4]})


MODELS = {"gaussian": pvae.Gaussian, "mixture": lambda: pvae.GaussianMixture(2),
          "linear": lambda: pvae.LinearGaussian(3, 1), "vae": small_vae}


@SETTINGS
@given(data=arrays(), model=st.sampled_from(sorted(MODELS)))
def test_fit_and_score_any_data(data, model):
    pair = MODELS[model]()
    call(pvae.fit, pair, data, steps=2, progress=False, device="cpu")
    call(pvae.score, pair, data, ks=(1, 2))
    call(pvae.exact, pair, data)


@SETTINGS
@given(option=st.sampled_from(FIT_OPTIONS), value=WRONG)
def test_fit_any_option(option, value):
    x = torch.randn(20, 3)
    options = {"steps": 2, "progress": False, "device": "cpu", option: value}
    call(pvae.fit, pvae.Gaussian(dim=3), x, **options)


@SETTINGS
@given(ks=st.one_of(WRONG, st.lists(WRONG, max_size=3)), batch=WRONG)
def test_estimators_any_option(ks, batch):
    vae, x = small_vae(), torch.rand(4, 64).round()
    call(pvae.score, vae, x, ks=ks)
    call(pvae.iwae, vae, x, k=ks if not isinstance(ks, list) else 2, batch_size=batch)
    call(pvae.elbo, vae, x, num_particles=ks if not isinstance(ks, list) else 1)


@SETTINGS
@given(data=arrays(widths=(2, 63, 64, 65)), n=WRONG, steps=WRONG)
def test_a_vae_encodes_decodes_and_samples_anything(data, n, steps):
    vae = small_vae()
    call(vae.encode, data)
    call(vae.reconstruct, data)
    call(vae.sample, n)
    call(vae.interpolate, data[:1] if np.ndim(data) else data, data, steps=steps)


@SETTINGS
@given(data=arrays(), codes=arrays(widths=(1, 2, 3)), option=WRONG)
def test_sampling_selection_and_decoding_any_input(data, codes, option):
    call(pvae.mcmc, pvae.BayesianGaussian(), data, num_samples=3, warmup=2, chains=1)
    call(pvae.mcmc, pvae.BayesianGaussian(), torch.randn(10), num_samples=option, warmup=2,
         chains=1)
    call(pvae.choose_components, data, data, [1], n_init=1)
    call(small_vae().decode, codes)


@SETTINGS
@given(option=st.sampled_from(["n_components", "dim", "covariance", "reg_covar"]),
       value=WRONG)
def test_models_any_constructor_option(option, value):
    base = {"n_components": 2}
    call(pvae.GaussianMixture, **{**base, option: value})
    call(pvae.VAE, (4,), 2, **{"beta" if option == "reg_covar" else "prior": value})
    call(pvae.Gaussian, dim=value)
    call(pvae.LinearGaussian, 3, value)


@SETTINGS
@given(data=arrays(), levels=WRONG, mode=WRONG)
def test_data_transforms_any_input(data, levels, mode):
    x = call(torch.as_tensor, data) if not isinstance(data, np.ndarray) or \
        data.dtype != object else None
    if isinstance(x, torch.Tensor):
        call(binarize, x, mode)
        call(dequantize, x, levels)


@SETTINGS
@given(table=st.sampled_from(["data", "model", "train"]), key=st.text(min_size=1, max_size=8)
       | st.sampled_from(["epochs", "lr", "seed", "device", "checkpoint_every", "engine",
                          "validation", "transform", "z_dim", "name", "batch_size"]),
       value=WRONG)
def test_configs_with_any_value(table, key, value):
    raw = {"data": {"name": "digits"},
           "model": {"name": "vae", "x_shape": [64], "z_dim": 2},
           "train": {"epochs": 1}}
    raw[table] = {**raw[table], key: value}
    call(load_config, raw)


@SETTINGS
@given(payload=st.binary(max_size=300))
def test_any_bytes_as_a_checkpoint(tmp_path_factory, payload):
    path = tmp_path_factory.mktemp("ckpt") / "checkpoint.pt"
    path.write_bytes(payload)
    assert call(load_checkpoint, path) is None
