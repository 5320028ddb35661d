"""pvae.sharpness: blur lowers the data's high-frequency energy, noise raises it."""

import pytest
import torch

import pvae
from pvae.data import digits
from pvae.estimate.sharpness import laplacian_energy, sharpness


@pytest.fixture(scope="module")
def images():
    data = digits()
    return data.train, data.test


def blurred(x):
    """Each 8x8 digit averaged with its four neighbours: a smear that keeps the shape."""
    grid = x.reshape(-1, 1, 8, 8)
    kernel = torch.tensor([[0, 1, 0], [1, 1, 1], [0, 1, 0]], dtype=x.dtype)[None, None] / 5
    return torch.nn.functional.conv2d(grid, kernel, padding=1).reshape(len(x), -1)


def test_held_out_data_read_as_sharp_as_the_data_blur_below_and_noise_above(images):
    train, test = images
    same = sharpness(test, train, (8, 8))
    smeared = sharpness(blurred(test), train, (8, 8))
    noise = sharpness(torch.rand(500, 64, generator=torch.Generator().manual_seed(0)), train,
                      (8, 8))
    assert abs(same.ratio - 1) < 4 * same.samples_stderr / same.data + 0.05
    assert smeared.ratio < 0.3  # 0.13
    assert noise.ratio > 1.3  # 1.6: the 8x8 digits are all edges, noise more so


def test_the_laplacian_of_a_plane_is_zero_and_of_a_spike_is_known():
    rows = torch.arange(5, dtype=torch.float64)
    plane = (rows[:, None] + 2 * rows[None, :])[None]
    assert laplacian_energy(plane).item() == pytest.approx(0.0)
    spike = torch.zeros(1, 3, 3, dtype=torch.float64)
    spike[0, 1, 1] = 1.0
    assert laplacian_energy(spike).item() == pytest.approx(16.0)  # one inner pixel: (-4)^2


def test_a_vaes_means_are_blurrier_than_its_draws(images):
    train, _ = images
    vae = pvae.VAE((64,), 2, likelihood="bernoulli", seed=0)
    pvae.fit(vae, (train > 0.5).float(), epochs=3, batch_size=128, lr=3e-3, seed=0,
             progress=False)
    means = sharpness(vae.sample(500), (train > 0.5).float(), (8, 8))
    draws = sharpness(vae.sample(500, mean=False), (train > 0.5).float(), (8, 8))
    assert means.ratio < draws.ratio


@pytest.mark.parametrize(("samples", "shape", "error", "match"), [
    (torch.rand(10, 60), (8, 8), pvae.DataError, "60 values, not images of 8x8"),
    (torch.rand(10, 64), (64,), ValueError, "image_shape must be"),
    (torch.rand(10, 64), (2, 32), ValueError, "H, W >= 3"),
])
def test_bad_input_is_one_line(images, samples, shape, error, match):
    with pytest.raises(error, match=match):
        sharpness(samples, images[0], shape)


@pytest.mark.parametrize("shape", [64, None, "88", (8.0, 8.0), (True, 8), (0, 8, 8)])
def test_a_malformed_image_shape_is_pvaes_error(images, shape):
    with pytest.raises(ValueError, match="image_shape must be"):
        sharpness(images[1], images[0], shape)


def test_a_model_is_refused_saying_what_to_pass(images):
    with pytest.raises(TypeError, match=r"pass samples \(model.sample\(n\)"):
        sharpness(pvae.VAE((64,), 2, seed=0), images[0], (8, 8))
