"""pvae.evidence on models that do not broadcast over the chains: each chain runs on its own."""

import warnings

import pyro
import pyro.distributions as dist
import pytest

import pvae
from pvae.bayes import UnbatchedModelWarning, evidence
from tests.bayes.test_evidence import DESIGN, data
from tests.bayes.test_evidence import regression_exact as exact
from tests.bayes.test_evidence import regression_model as broadcast_regression


def matmul_regression(y):
    weights = pyro.sample("w", dist.Normal(y.new_zeros(2), 1.0).to_event(1))
    with pyro.plate("data", len(y)):
        pyro.sample("y", dist.Normal(DESIGN @ weights, 0.5), obs=y)


def matmul_regression_with_noise(y):
    weights = pyro.sample("w", dist.Normal(y.new_zeros(2), 1.0).to_event(1))
    mean = DESIGN @ weights  # computed before the last latent: its draws cannot broadcast
    noise = pyro.sample("noise", dist.HalfNormal(y.new_tensor(1.0)))
    with pyro.plate("data", len(y)):
        pyro.sample("y", dist.Normal(mean, noise), obs=y)


@pytest.fixture
def y():
    return data("bayesian regression")


def test_features_at_weights_gives_the_broadcast_models_evidence(y):
    settings = {"steps": 100, "chains": 512, "seed": 0, "check_convergence": False}
    broadcast = evidence(broadcast_regression, y, **settings)
    with pytest.warns(UnbatchedModelWarning, match="does not broadcast.*vmap"):
        mapped = evidence(matmul_regression, y, **settings)
    assert mapped.value == pytest.approx(broadcast.value, abs=1e-9)  # the same numbers
    assert mapped.stderr == pytest.approx(broadcast.stderr, abs=1e-9)
    for estimate in (mapped, broadcast):  # within three standard errors of the exact value
        assert abs(estimate.value - exact(y)) < 3 * estimate.stderr < 0.25


def test_the_slower_path_is_said_once_per_call(y):
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        evidence(matmul_regression, y, steps=40, chains=8, seed=0)  # AIS runs twice
    unbatched = [w for w in said if issubclass(w.category, UnbatchedModelWarning)]
    assert len(unbatched) == 1, [str(w.message) for w in said]


def test_chains_in_sequence_where_vmap_cannot_run(y, monkeypatch):
    from pvae.bayes import chains

    def refuse(*args, **kwargs):
        raise RuntimeError("vmap: data-dependent control flow")

    monkeypatch.setattr(chains.torch.func, "vmap", refuse)
    with pytest.warns(UnbatchedModelWarning, match="one after another"):
        slow = evidence(matmul_regression, y, steps=50, chains=16, seed=0,
                        check_convergence=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pvae.EvidenceWarning)
        fast = evidence(broadcast_regression, y, steps=50, chains=16, seed=0,
                        check_convergence=False)
    assert slow.value == pytest.approx(fast.value, abs=1e-6)


def test_latents_drawn_one_chain_at_a_time_still_anneal_to_the_evidence(y):
    with pytest.warns(UnbatchedModelWarning, match="does not broadcast"):
        estimate = evidence(matmul_regression_with_noise, y, steps=300, chains=64, seed=0,
                            check_convergence=False)
    # the noise is not fixed at 0.5 here: the evidence is a little lower than the exact one
    # with it known, and finite
    assert exact(y) - 5 < estimate.value < exact(y) + 1
