"""pvae.fidelity: FID against scipy, and controls that make each measure fail."""

import math

import numpy as np
import pytest
import scipy.linalg
import torch

import pvae
from pvae.data import digits
from pvae.estimate.fidelity import fidelity, precision_recall


@pytest.fixture(scope="module")
def images():
    data = digits()
    return data.train, data.test


def direct_fid(a, b):
    a, b = a.double().numpy(), b.double().numpy()
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root = scipy.linalg.sqrtm(s1 @ s2).real
    return float(((a.mean(0) - b.mean(0)) ** 2).sum() + np.trace(s1 + s2 - 2 * root))


def test_the_fid_of_a_set_against_itself_is_zero_and_equals_scipys(images):
    train, test = images
    assert fidelity(test, test).fid == pytest.approx(0.0, abs=1e-6)
    # well-conditioned features: 8 principal directions of the digits
    basis = torch.linalg.svd(train - train.mean(0), full_matrices=False).Vh[:8].T

    def principal(x):
        return x @ basis

    found = fidelity(train[:500], test, features=principal)
    assert found.fid == pytest.approx(direct_fid(train[:500] @ basis, test @ basis), abs=1e-6)
    assert found.features == "principal"


def test_noise_has_no_precision_and_a_copycat_of_ten_images_no_recall(images):
    train, test = images
    generator = torch.Generator().manual_seed(0)
    noise = fidelity(torch.rand(400, 64, generator=generator), test)
    copycat = fidelity(train[:10].repeat(40, 1) + 0.01 * torch.randn(400, 64,
                                                                   generator=generator), test)
    held_out = fidelity(train[:400], test)
    assert noise.precision < 0.01 and noise.recall < 0.01
    assert copycat.recall < 0.05 and copycat.precision > 0.5
    assert held_out.precision > 0.8 and held_out.recall > 0.8
    assert held_out.fid < copycat.fid < noise.fid and held_out.kid < copycat.kid < noise.kid
    assert abs(held_out.kid) < 3 * held_out.kid_stderr + 1e-3


def test_precision_and_recall_by_hand():
    real = torch.tensor([[0.0], [1.0], [2.0], [10.0]], dtype=torch.float64)
    fake = torch.tensor([[0.5], [20.0], [21.0], [22.0]], dtype=torch.float64)
    # k = 1: real radii 1, 1, 1, 8, so only 0.5 lies in a real ball; fake radii 19.5, 1, 1,
    # 1, so the lone sample at 0.5 reaches every real point (an outlier's wide ball: the
    # k-NN estimate's known weakness)
    assert precision_recall(real, fake, k=1) == (0.25, 1.0)


def test_a_model_draws_its_own_samples(images):
    _, test = images
    vae = pvae.VAE((64,), 2, likelihood="continuous_bernoulli", seed=0)
    found = fidelity(vae, test, n=300)
    assert math.isfinite(found.fid) and 0 <= found.precision <= 1


@pytest.mark.parametrize(("samples", "options", "error", "match"), [
    (torch.rand(50, 10), {}, pvae.DataError, "data give 64 features, the samples 10"),
    (torch.full((50, 64), math.nan), {}, pvae.DataError, "NaN"),
    (torch.rand(50, 64), {"features": lambda x: x[:3]}, ValueError,
     r"one row of real features per point, \(50, d\) with d >= 1; it returned \(3, 64\)"),
    (torch.rand(50, 64), {"features": lambda x: 1 / 0}, ValueError,
     "the feature map failed on samples"),
    (torch.rand(50, 64), {"features": "inception"}, ValueError, "'pixels' or a callable"),
    (torch.rand(50, 64), {"k": 50}, ValueError, "k=50 neighbours needs more than 50"),
])
def test_bad_input_is_one_line(images, samples, options, error, match):
    _, test = images
    with pytest.raises(error, match=match) as caught:
        fidelity(samples, test, **options)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(("samples", "data", "options", "error", "match"), [
    (torch.rand(50, 64), None, {"features": lambda x: torch.zeros(len(x), 4)}, pvae.DataError,
     "features are all constant"),
    (torch.rand(50, 64), None, {"kid_subsets": 10**7}, ValueError, "more than KID needs"),
    (torch.rand(50, 64), None, {"features": lambda x: x[:, :0]}, ValueError, "d >= 1"),
    (torch.rand(50, 64), None, {"features": lambda x: x.to(torch.complex64)}, ValueError,
     "real features"),
    (torch.rand(1, 64), None, {}, ValueError, "1 samples .* at least 4 of each"),
])
def test_what_would_read_perfect_or_hang_is_refused(images, samples, data, options, error,
                                                    match):
    _, test = images
    with pytest.raises(error, match=match):
        fidelity(samples, test if data is None else data, **options)


def test_one_kid_subset_has_no_standard_error(images):
    train, test = images
    assert math.isnan(fidelity(train[:100], test, kid_subsets=1).kid_stderr)
