import pytest
from pyro.infer import JitTrace_ELBO, Trace_ELBO, TraceMeanField_ELBO

import pvae
from pvae import VAE
from pvae.data import binarize, digits
from pvae.objectives import is_compiled, objectives
from pvae.objectives.importance import ImportanceWeightedELBO
from pvae.objectives.lean import LeanTrace_ELBO
from pvae.train.step import objective_of

SMALL = {"encoder": {"name": "mlp", "hidden": [16]}, "decoder": {"name": "mlp", "hidden": [16]}}


def test_names_resolve_to_pyro_objectives():
    assert type(objectives.resolve("elbo")) is LeanTrace_ELBO  # a Trace_ELBO, traced once
    assert type(objectives.resolve({"name": "elbo", "num_particles": 3})) is Trace_ELBO
    assert isinstance(objectives.resolve("meanfield"), TraceMeanField_ELBO)
    iwae = objectives.resolve({"name": "iwae", "k": 7})
    assert isinstance(iwae, ImportanceWeightedELBO) and iwae.k == 7 and iwae.gradient == "dreg"
    compiled = objectives.resolve({"name": "elbo", "jit": True})
    assert isinstance(compiled, JitTrace_ELBO) and is_compiled(compiled)
    with pytest.raises(ValueError, match="k must be a positive integer"):
        objectives.resolve({"name": "iwae", "k": 0})


# Pyro compiles with torch.jit.trace, which torch now marks as deprecated
@pytest.mark.filterwarnings("ignore:`torch.jit.trace` is deprecated:FutureWarning")
def test_compiled_elbo_trains_with_equal_minibatches():
    x = binarize(digits().train[:300])  # 300 = 2 x 128 + 44: the partial batch is dropped
    vae = VAE((64,), 2, objective={"name": "elbo", "jit": True}, **SMALL)
    result = pvae.fit(vae, x, epochs=3, batch_size=128, lr=1e-2, seed=0, progress=False)
    assert result.steps == 6
    assert sum(result.losses[-2:]) < sum(result.losses[:2])


@pytest.mark.filterwarnings("ignore:`torch.jit.trace` is deprecated:FutureWarning")
def test_compiled_objective_refuses_what_it_cannot_see():
    x = binarize(digits().train[:64])
    vae = VAE((64,), 2, objective={"name": "elbo", "jit": True}, **SMALL)
    with pytest.raises(ValueError, match="cannot follow a KL warm-up"):
        pvae.fit(vae, x, steps=2, kl_warmup=10, progress=False)
    with pytest.raises(ValueError, match="needs beta=1"):
        VAE((64,), 2, objective={"name": "elbo", "jit": True}, beta=2.0, **SMALL)


def test_the_same_objective_instance_is_reused():
    vae = VAE((64,), 2, **SMALL)
    assert vae.objective() is vae.objective()
    assert objective_of(vae) is vae.objective()  # what fit and both engines train with
