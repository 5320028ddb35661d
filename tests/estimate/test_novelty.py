"""pvae.novelty: the data-copying test C_T, calibrated by a copycat, held-out data and noise."""

import math

import pytest
import torch

import pvae
from pvae.data import digits
from pvae.estimate.novelty import nearest, novelty


@pytest.fixture(scope="module")
def data():
    images = digits()
    half = len(images.test) // 2
    return images.train, images.test[:half], images.test[half:]


def copycat(train, count, seed):
    generator = torch.Generator().manual_seed(seed)
    rows = torch.randint(len(train), (count,), generator=generator)
    return train[rows] + 0.01 * torch.randn(count, train.shape[1], generator=generator)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_copycat_is_caught_held_out_data_is_not_and_noise_underfits(data, seed):
    train, unseen, test = data
    noise = torch.rand(400, train.shape[1], generator=torch.Generator().manual_seed(seed))
    copied = novelty(copycat(train, 400, seed), train, test, cells=5, seed=seed)
    fresh = novelty(unseen, train, test, cells=5, seed=seed)
    blurred = novelty(noise, train, test, cells=5, seed=seed)
    assert copied.c_t < -5 and copied.copied > 0.9
    assert abs(fresh.c_t) < 2 and fresh.copied < 0.2
    assert blurred.c_t > 5 and blurred.copied == 0
    assert copied.kept_mass <= 1 and len(copied.cell_z) == len(copied.cell_mass)


def test_each_cells_z_is_the_mann_whitney_count_of_farther_samples(data):
    train, unseen, test = data
    found = novelty(unseen, train, test, cells=1, seed=0)
    q, p = found.sample_distance.double(), found.test_distance.double()
    farther = (q[:, None] > p[None, :]).double().sum() + 0.5 * (q[:, None] == p[None, :]).sum()
    m, n = len(q), len(p)
    z = (farther - m * n / 2) / math.sqrt(m * n * (m + n + 1) / 12)
    assert found.c_t == pytest.approx(float(z), abs=1e-9)


def test_the_nearest_training_point_is_found_with_its_index():
    reference = torch.tensor([[0.0, 0.0], [3.0, 4.0], [10.0, 0.0]], dtype=torch.float64)
    distance, index = nearest(torch.tensor([[3.0, 3.0], [9.0, 0.0]], dtype=torch.float64),
                              reference)
    assert index.tolist() == [1, 2] and distance.tolist() == pytest.approx([1.0, 1.0])


def test_a_model_draws_its_own_samples(data):
    train, _, test = data
    vae = pvae.VAE((64,), 2, likelihood="continuous_bernoulli", seed=0)
    found = novelty(vae, train, test, cells=3, n=300, seed=0)
    assert len(found.sample_distance) == 300 and len(found.nearest_train) == 300
    assert found.c_t > 3  # an untrained decoder's means sit far from every digit


@pytest.mark.parametrize(("samples", "options", "error", "match"), [
    (torch.rand(50, 10), {}, pvae.DataError, "samples hold points of 10 values, .* 64"),
    (torch.full((50, 64), math.nan), {}, pvae.DataError, "NaN"),
    (torch.rand(5, 64), {}, ValueError, "5 samples .* at least min_samples=20"),
    (torch.rand(50, 64), {"cells": 10**6}, ValueError, "more than the .* training points"),
    (torch.rand(50, 64), {"cells": 200, "min_samples": 40}, ValueError, "no cell holds 40"),
])
def test_bad_input_is_one_line(data, samples, options, error, match):
    train, _, test = data
    with pytest.raises(error, match=match) as caught:
        novelty(samples, train, test, **options)
    assert "\n" not in str(caught.value)


def test_held_out_data_that_are_the_training_set_are_refused(data):
    train, unseen, _ = data
    with pytest.raises(pvae.DataError, match="held-out points are training points"):
        novelty(unseen, train, train, cells=5)


def test_n_with_samples_already_drawn_is_refused_not_ignored(data):
    train, unseen, test = data
    with pytest.raises(ValueError, match="n=50 sets how many samples to draw from a model"):
        novelty(unseen, train, test, cells=5, n=50)
