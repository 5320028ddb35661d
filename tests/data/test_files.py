"""A user's own data sets: array files and IDX folders, and every way they can be wrong."""

import gzip
import shutil

import numpy as np
import pytest
import torch

from pvae.config import ConfigError, load_config
from pvae.data import mnist
from pvae.data.files import DataFileError, array_file, idx_folder
from pvae.data.mnist import FILES
from pvae.data.prepare import prepare_data

from .test_mnist import SHARED, write_idx  # noqa: F401 (fixture helpers)


def images(n, shape=(4, 4), seed=0):
    return np.random.default_rng(seed).random((n, *shape))


def test_one_array_is_split_once_and_flattened(tmp_path):
    np.save(tmp_path / "x.npy", images(50))
    first, again = array_file(tmp_path / "x.npy"), array_file(tmp_path / "x.npy")
    assert first.train.shape == (40, 16) and first.test.shape == (10, 16)
    assert torch.equal(first.test, again.test)
    assert bool((first.train_labels == -1).all()) and first.levels is None
    # every row lands in exactly one side
    together = torch.cat([first.train, first.test])
    original = torch.as_tensor(images(50)).reshape(50, -1)
    assert torch.equal(together.sort(0).values, original.sort(0).values)


def test_named_train_and_test_arrays_keep_their_split_and_labels(tmp_path):
    np.savez(tmp_path / "x.npz", train=images(30), test=images(8, seed=1),
             train_labels=np.arange(30), test_labels=np.arange(8))
    split = array_file(tmp_path / "x.npz")
    assert split.train.shape == (30, 16) and split.test.shape == (8, 16)
    assert split.test_labels.tolist() == list(range(8))
    torch.testing.assert_close(split.test, torch.as_tensor(images(8, seed=1)).reshape(8, -1))


def test_a_torch_file_of_tensors_and_8_bit_grey_levels(tmp_path):
    pixels = torch.randint(0, 256, (20, 3, 3), dtype=torch.uint8)
    torch.save({"train": pixels[:15], "test": pixels[15:]}, tmp_path / "x.pt")
    split = array_file(tmp_path / "x.pt")
    assert split.levels == 256 and float(split.train.max()) <= 1.0
    torch.testing.assert_close(split.test * 255, pixels[15:].reshape(5, -1).to(split.test))
    torch.save(pixels.float(), tmp_path / "one.pt")
    assert array_file(tmp_path / "one.pt").train.shape == (16, 9)


def test_an_idx_folder_reads_like_mnist_gzipped_or_not(tmp_path):
    rng = np.random.default_rng(0)
    for split, n in (("train", 6), ("test", 4)):
        write_idx(tmp_path / FILES[f"{split}_images"], rng.integers(0, 256, (n, 28, 28)))
        write_idx(tmp_path / FILES[f"{split}_labels"], rng.integers(0, 10, n))
    gz = idx_folder(tmp_path)
    torch.testing.assert_close(gz.train, mnist(tmp_path).train)
    plain = tmp_path / "plain"
    plain.mkdir()
    for name in FILES.values():
        with gzip.open(tmp_path / name) as source, open(plain / name[:-3], "wb") as target:
            shutil.copyfileobj(source, target)
    assert torch.equal(idx_folder(plain).test, gz.test) and idx_folder(plain).levels == 256


def test_a_config_trains_from_an_array_file(tmp_path):
    np.save(tmp_path / "x.npy", (images(60, (8, 8)) > 0.5).astype(np.float32))
    config = load_config({"data": {"name": "array", "path": str(tmp_path / "x.npy")},
                          "model": {"name": "vae", "x_shape": [64], "z_dim": 2},
                          "train": {"steps": 2}})
    data = config.prepare_data()
    assert data.train.shape == (48, 64)


@pytest.mark.parametrize(("content", "match"), [
    (None, "no such file"),
    (b"not an array at all", "could not be read as arrays"),
    (np.array(["a", "b"]), "must be numeric"),
    (np.array([1.0, 2.0, 3.0]), "one observation per row"),
    (np.array([[1.0, np.nan], [0.0, 1.0]]), "NaN values in 1 of 2 rows"),
    (np.zeros((0, 3)), "is empty"),
    (np.zeros((2, 2)), "too few to hold out"),
])
def test_a_bad_array_file_is_one_line_naming_the_file(tmp_path, content, match):
    path = tmp_path / "bad.npy"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        np.save(path, content)
    with pytest.raises(DataFileError, match=match) as caught:
        prepare_data({"name": "array", "path": str(path)})
    assert "\n" not in str(caught.value) and "bad.npy" in str(caught.value)


def test_mismatched_or_mislabelled_named_arrays(tmp_path):
    np.savez(tmp_path / "w.npz", train=images(5), test=images(5, (3, 3)))
    with pytest.raises(DataFileError, match="16 values and the test rows 9"):
        array_file(tmp_path / "w.npz")
    np.savez(tmp_path / "l.npz", train=images(5), test=images(5), train_labels=np.zeros(4))
    with pytest.raises(DataFileError, match="5 integer labels"):
        array_file(tmp_path / "l.npz")
    np.savez(tmp_path / "many.npz", a=images(5), b=images(5))
    with pytest.raises(DataFileError, match="name them 'train' and 'test'"):
        array_file(tmp_path / "many.npz")
    np.save(tmp_path / "objects.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(DataFileError, match="could not be read as arrays"):
        array_file(tmp_path / "objects.npy")
    torch.save({"train": [1, 2]}, tmp_path / "list.pt")
    with pytest.raises(DataFileError, match="not a tensor or a dict of tensors"):
        array_file(tmp_path / "list.pt")
    with pytest.raises(DataFileError, match="is a .npy, .npz, .pt file"):
        array_file(tmp_path / "x.csv")


def test_a_missing_idx_folder_or_file_names_what_is_missing(tmp_path):
    with pytest.raises(DataFileError, match="no such folder"):
        idx_folder(tmp_path / "nowhere")
    write_idx(tmp_path / FILES["train_images"], np.zeros((2, 3, 3)))
    with pytest.raises(DataFileError, match="lacks train-labels-idx1-ubyte.gz"):
        idx_folder(tmp_path)


def test_a_config_refuses_keys_the_data_set_does_not_take(tmp_path):
    with pytest.raises(ConfigError, match="path"):
        load_config({"data": {"name": "array", "pth": "x.npy"}, "model": {"name": "gaussian"}})


@pytest.mark.skipif(not SHARED.is_dir(), reason="no MNIST files in ../shared/data/mnist")
def test_the_shared_mnist_folder_reads_as_an_idx_data_set():
    assert idx_folder(SHARED).train.shape == (60000, 784)


@pytest.mark.parametrize(("table", "match"), [
    ({"name": "array", "path": 3}, "path must be a file path"),
    ({"name": "idx", "root": ""}, "root must be a file path"),
    ({"name": "array", "path": "x.npy", "test_fraction": "half"}, "test_fraction must lie"),
    ({"name": "array", "path": "x.npy", "test_fraction": 1.5}, "test_fraction must lie"),
])
def test_settings_of_the_wrong_type_are_refused(tmp_path, monkeypatch, table, match):
    monkeypatch.chdir(tmp_path)
    np.save(tmp_path / "x.npy", images(20))
    with pytest.raises(DataFileError, match=match):
        prepare_data(table)


@pytest.mark.parametrize(("name", "key"), [("idx", "root"), ("array", "path")])
def test_a_config_asks_for_the_key_a_data_set_needs(name, key):
    with pytest.raises(ConfigError, match=rf"name = '{name}' needs {key} \(e\.g\."):
        load_config({"data": {"name": name}, "model": {"name": "gaussian"}})


def test_settings_that_would_not_act_are_refused(tmp_path):
    np.savez(tmp_path / "split.npz", train=images(10), test=images(5))
    with pytest.raises(DataFileError, match="test_fraction has nothing to split"):
        array_file(tmp_path / "split.npz", test_fraction=0.3)
    np.save(tmp_path / "grey.npy", np.zeros((10, 3), dtype=np.uint8))
    with pytest.raises(DataFileError, match="levels=17 disagrees"):
        array_file(tmp_path / "grey.npy", levels=17)
    assert array_file(tmp_path / "grey.npy", levels=256).levels == 256
    with pytest.raises(ConfigError, match="levels is read only by transform = 'dequantize'"):
        load_config({"data": {"name": "array", "path": "x.npy", "levels": 4},
                     "model": {"name": "gaussian"}})


@pytest.mark.parametrize("grey", ["train", "test"])
def test_grey_levels_beside_other_numbers_are_refused_not_put_on_two_scales(tmp_path, grey):
    levels = np.random.default_rng(0).integers(0, 256, (8, 4, 4), dtype=np.uint8)
    halves = {"train": images(30), "test": images(8)}
    halves[grey] = levels
    np.savez(tmp_path / "mixed.npz", **halves)
    with pytest.raises(DataFileError, match=r"mixed.npz: 'train' holds .* different scales"):
        array_file(tmp_path / "mixed.npz")


def test_an_unknown_array_beside_the_split_is_refused_with_the_known_names(tmp_path):
    np.savez(tmp_path / "typo.npz", train=images(30), test=images(8),
             train_label=np.arange(30))
    with pytest.raises(DataFileError, match=r"typo.npz holds an array 'train_label' .* Did you "
                                            r"mean 'train_labels'\? The arrays it reads: train, "
                                            r"test, train_labels, test_labels"):
        prepare_data({"name": "array", "path": str(tmp_path / "typo.npz")})


def test_a_bfloat16_or_grad_tracking_tensor_is_read_as_plain_values(tmp_path):
    values = torch.rand(20, 3, 3)
    torch.save(values.bfloat16(), tmp_path / "half.pt")
    split = array_file(tmp_path / "half.pt")
    assert split.train.dtype == torch.float32 and split.train.shape == (16, 9)
    together = torch.cat([split.train, split.test]).sort(0).values
    torch.testing.assert_close(together, values.bfloat16().float().reshape(20, 9).sort(0).values)
    torch.save({"train": values[:15].requires_grad_(), "test": values[15:].bfloat16()},
               tmp_path / "grad.pt")
    split = array_file(tmp_path / "grad.pt")
    assert not split.train.requires_grad
    torch.testing.assert_close(split.train, values[:15].reshape(15, 9))


def test_a_tensor_that_is_not_a_plain_array_is_refused_naming_the_file(tmp_path):
    eight_bit = torch.eye(4).to(torch.float8_e4m3fn)  # a float numpy has no type for
    torch.save({"train": eight_bit, "test": torch.eye(4)}, tmp_path / "s.pt")
    with pytest.raises(DataFileError, match=r"s.pt \['train'\] holds a torch.float8_e4m3fn "
                                            "tensor that is not a plain array"):
        array_file(tmp_path / "s.pt")


def test_an_idx_header_that_counts_no_images_names_the_file(tmp_path):
    from pvae.data import IDXError

    rng = np.random.default_rng(0)
    write_idx(tmp_path / FILES["train_images"], np.zeros((0, 28, 28)))
    write_idx(tmp_path / FILES["train_labels"], np.zeros(0))
    write_idx(tmp_path / FILES["test_images"], rng.integers(0, 256, (4, 28, 28)))
    write_idx(tmp_path / FILES["test_labels"], rng.integers(0, 10, 4))
    with pytest.raises(IDXError, match=r"train-images-idx3-ubyte.gz holds no images: its header "
                                       r"counts 0 images"):
        idx_folder(tmp_path)
