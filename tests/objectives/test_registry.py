import pytest
from pyro.infer import JitTrace_ELBO, Trace_ELBO, TraceMeanField_ELBO

import pvae
from pvae import VAE
from pvae.data import binarize, digits
from pvae.objectives import objectives
from pvae.objectives.default import CheckedTrace_ELBO
from pvae.objectives.importance import ImportanceWeightedELBO
from pvae.train.step import objective_of

SMALL = {"encoder": {"name": "mlp", "hidden": [16]}, "decoder": {"name": "mlp", "hidden": [16]}}


def test_names_resolve_to_pyro_objectives():
    assert type(objectives.resolve("elbo")) is CheckedTrace_ELBO  # a Trace_ELBO, traced once
    assert type(objectives.resolve({"name": "elbo", "num_particles": 3})) is Trace_ELBO
    assert isinstance(objectives.resolve("meanfield"), TraceMeanField_ELBO)
    iwae = objectives.resolve({"name": "iwae", "k": 7})
    assert isinstance(iwae, ImportanceWeightedELBO) and iwae.k == 7 and iwae.gradient == "dreg"
    with pytest.raises(ValueError, match="k must be a positive integer"):
        objectives.resolve({"name": "iwae", "k": 0})


def test_jit_is_retired_with_a_warning_and_trains_on_the_default():
    with pytest.warns(DeprecationWarning, match="jit=True is retired"):
        retired = objectives.resolve({"name": "elbo", "jit": True})
    assert type(retired) is CheckedTrace_ELBO
    with pytest.warns(DeprecationWarning, match="jit=True is retired"):
        assert isinstance(objectives.resolve({"name": "meanfield", "jit": True}),
                          TraceMeanField_ELBO)
    x = binarize(digits().train[:300])  # 300 = 2 x 128 + 44: the partial batch is kept now
    with pytest.warns(DeprecationWarning):
        vae = VAE((64,), 2, objective={"name": "elbo", "jit": True}, beta=2.0, **SMALL)
    assert pvae.fit(vae, x, epochs=1, batch_size=128, seed=0, progress=False).steps == 3


def test_a_foreign_jit_objective_is_refused_by_fit():
    x = binarize(digits().train[:64])
    vae = VAE((64,), 2, objective=JitTrace_ELBO(max_plate_nesting=1), **SMALL)
    with pytest.raises(ValueError, match="compiles the first minibatch's scale"):
        pvae.fit(vae, x, steps=2, progress=False)
    with pytest.warns(DeprecationWarning, match="now CheckedTrace_ELBO"):
        from pvae.objectives import LeanTrace_ELBO
    assert LeanTrace_ELBO is CheckedTrace_ELBO


def test_the_same_objective_instance_is_reused():
    vae = VAE((64,), 2, **SMALL)
    assert vae.objective() is vae.objective()
    assert objective_of(vae) is vae.objective()  # what fit and both engines train with
