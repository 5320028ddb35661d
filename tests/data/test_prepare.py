import pytest
import torch

from pvae import UnknownNameError
from pvae.data import digits
from pvae.data.prepare import datasets, prepare_data, transforms


@pytest.mark.parametrize("name", transforms.names())
def test_every_transform_keeps_the_split_and_is_seeded(name):
    table = {"name": "digits", "transform": name, "validation": 20}
    first, again = prepare_data(table, seed=3), prepare_data(table, seed=3)
    assert first.train.shape == (1438, 64) and first.test.shape == (359, 64)
    assert torch.equal(first.test, again.test) and torch.equal(first.train, again.train)
    assert first.validation is not None and torch.equal(first.validation, first.test[:20])


def test_what_each_transform_does_to_the_pixels():
    raw = digits()
    binary = prepare_data({"name": "digits", "transform": "binarize"}, seed=0)
    assert set(binary.train.unique().tolist()) == {0.0, 1.0}
    assert binary.transform is None
    dynamic = prepare_data({"name": "digits", "transform": "dynamic_binarization"})
    assert torch.equal(dynamic.train, raw.train)  # drawn afresh per minibatch instead
    assert dynamic.transform is not None and set(dynamic.test.unique().tolist()) == {0.0, 1.0}
    spread = prepare_data({"name": "digits", "transform": "dequantize"}, seed=0)
    levels = raw.levels
    assert levels == 17  # the digits' pixels are counts 0..16
    counts = torch.round(raw.train * (levels - 1))
    assert bool(((spread.train * levels >= counts) & (spread.train * levels < counts + 1)).all())
    plain = prepare_data({"name": "digits"})
    assert torch.equal(plain.test, raw.test) and plain.validation is None


def test_the_data_sets_a_config_can_name():
    assert set(datasets.names()) == {"digits", "mnist", "idx", "array"}


def test_dequantizing_data_of_unknown_grey_levels_asks_for_them(tmp_path):
    import numpy as np
    np.save(tmp_path / "x.npy", np.random.default_rng(0).random((50, 3)))
    with pytest.raises(ValueError, match=r"set \[data\] levels"):
        prepare_data({"name": "array", "path": str(tmp_path / "x.npy"), "transform": "dequantize"})
    spread = prepare_data({"name": "array", "path": str(tmp_path / "x.npy"), "levels": 4,
                           "transform": "dequantize"})
    assert spread.train.shape == (40, 3)


def test_unknown_names_suggest_the_closest():
    with pytest.raises(UnknownNameError, match="Did you mean 'dequantize'"):
        prepare_data({"name": "digits", "transform": "dequantise"})
    with pytest.raises(UnknownNameError, match="Did you mean 'mnist'"):
        prepare_data({"name": "mnsit"})
