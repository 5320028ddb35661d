import torch

from pvae.data import digits


def test_fixed_split_scaled_to_unit_interval():
    first, second = digits(), digits()
    assert first.train.shape == (1438, 64) and first.test.shape == (359, 64)
    assert float(first.train.min()) == 0.0 and float(first.train.max()) == 1.0
    torch.testing.assert_close(first.test, second.test)  # the same split every time
    assert len(set(first.test_labels.tolist())) == 10
    assert digits(dtype=torch.float64).train.dtype == torch.float64
