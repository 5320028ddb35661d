import torch

from pvae.data import dequantize, digits


def test_dequantize_spreads_each_level_over_its_bin():
    images = digits().test[:50]
    spread = dequantize(images, 17, seed=3)
    counts = torch.round(images * 16)
    assert bool(((spread * 17 >= counts) & (spread * 17 < counts + 1)).all())
    torch.testing.assert_close(spread, dequantize(images, 17, seed=3))
