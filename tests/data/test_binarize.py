import pytest
import torch

from pvae.data import binarize, dynamic_binarization


def test_binarization():
    grey = torch.full((1000, 10), 0.3)
    static = binarize(grey, "static", seed=1)
    assert torch.equal(static, binarize(grey, "static", seed=1))
    assert set(static.unique().tolist()) <= {0.0, 1.0}
    assert float(static.mean()) == pytest.approx(0.3, abs=0.02)
    assert not torch.equal(dynamic_binarization(grey), dynamic_binarization(grey))
    assert torch.equal(binarize(torch.tensor([0.2, 0.7]), "threshold"), torch.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        binarize(torch.tensor([2.0]))
    with pytest.raises(ValueError, match="unknown binarization 'dynamic'"):
        binarize(grey, "dynamic")


def test_dynamic_binarization_draws_each_pixel_with_its_grey_level():
    grey = torch.linspace(0, 1, 11).expand(4000, 11)
    means = dynamic_binarization(grey).mean(0)
    torch.testing.assert_close(means, grey[0], atol=0.03, rtol=0)
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        dynamic_binarization(torch.tensor([-0.1]))
