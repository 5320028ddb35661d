import math

import pytest
import torch

import pvae
from pvae.data import binarize, digits
from pvae.estimate.usage import ACTIVE

SMALL = {"encoder": {"name": "mlp", "hidden": [32]}, "decoder": {"name": "mlp", "hidden": [32]}}


@pytest.fixture(scope="module")
def images():
    return binarize(digits().train)


@pytest.mark.parametrize("prior", ["normal", "mog", "vamp"])
def test_the_kl_term_splits_into_information_and_marginal_kl(images, prior):
    vae = pvae.VAE((64,), 6, prior=prior, **SMALL)
    pvae.fit(vae, images, epochs=10, batch_size=128, lr=3e-3, seed=0, progress=False)
    usage = pvae.latent_usage(vae, images[:200], samples=20)
    assert usage.mutual_information + usage.marginal_kl == pytest.approx(usage.kl, abs=0.15)
    assert 0 < usage.mutual_information <= math.log(200) + 1e-9
    assert usage.marginal_kl > -1e-3  # a KL, up to Monte Carlo error
    assert usage.kl_per_dim is not None and usage.kl_per_dim.shape == (6,)
    if prior == "normal":  # a factorised prior: the dimensions' KLs add up to the KL
        assert float(usage.kl_per_dim.sum()) == pytest.approx(usage.kl, rel=1e-5)


def test_a_large_beta_leaves_fewer_units_active(images):
    counts = {}
    for beta in (1.0, 8.0):
        vae = pvae.VAE((64,), 8, beta=beta, **SMALL)
        pvae.fit(vae, images, epochs=40, batch_size=128, lr=3e-3, seed=0, progress=False)
        usage = pvae.latent_usage(vae, images[:300])
        counts[beta] = usage.active_units
        assert usage.active_units == int((usage.activity > ACTIVE).sum())
    assert counts[8.0] < counts[1.0]


def test_a_flow_guide_has_no_per_dimension_kl_and_says_so(images):
    vae = pvae.VAE((64,), 3, guide="flow", **SMALL)
    usage = pvae.latent_usage(vae, images[:30], samples=4)
    assert usage.kl_per_dim is None and "does not factorise" in usage.note
    assert torch.isfinite(usage.activity).all()


def test_what_has_no_usage_says_why(images):
    with pytest.raises(ValueError, match="point mass"):
        pvae.latent_usage(pvae.VAE((64,), 2, guide="delta", **SMALL), images[:10])
    with pytest.raises(ValueError, match="at least 2 rows"):
        pvae.latent_usage(pvae.VAE((64,), 2, **SMALL), images[:1])
