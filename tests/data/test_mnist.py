import gzip
import struct
from pathlib import Path

import numpy as np
import pytest
import torch

from pvae.data import IDXError, MNISTNotFoundError, mnist, read_idx
from pvae.data.mnist import FILES

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "mnist"


def write_idx(path, array, *, truncate=0):
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(
        f">{array.ndim}I", *array.shape)
    payload = header + array.astype(np.uint8).tobytes()
    with gzip.open(path, "wb") as handle:
        handle.write(payload[: len(payload) - truncate])


@pytest.fixture
def tiny_mnist(tmp_path):
    rng = np.random.default_rng(0)
    for split, n in (("train", 6), ("test", 4)):
        write_idx(tmp_path / FILES[f"{split}_images"], rng.integers(0, 256, (n, 28, 28)))
        write_idx(tmp_path / FILES[f"{split}_labels"], rng.integers(0, 10, n))
    return tmp_path


def test_reads_idx_files(tiny_mnist):
    data = mnist(tiny_mnist)
    assert data.train.shape == (6, 784) and data.test.shape == (4, 784)
    assert 0.0 <= float(data.train.min()) and float(data.train.max()) <= 1.0
    assert data.train_labels.dtype == torch.int64


def test_truncated_file_is_a_clear_error(tiny_mnist):
    write_idx(tiny_mnist / FILES["test_images"], np.zeros((4, 28, 28)), truncate=10)
    with pytest.raises(IDXError, match="truncated or corrupt"):
        mnist(tiny_mnist)


def test_bad_magic_and_type(tmp_path):
    (tmp_path / "bad.idx").write_bytes(b"\x01\x02\x08\x01" + b"\x00" * 8)
    with pytest.raises(IDXError, match="bad magic"):
        read_idx(tmp_path / "bad.idx")
    (tmp_path / "type.idx").write_bytes(b"\x00\x00\x07\x01\x00\x00\x00\x01\x00")
    with pytest.raises(IDXError, match="unknown IDX type"):
        read_idx(tmp_path / "type.idx")


def test_missing_files_say_where_they_were_looked_for(tmp_path, monkeypatch):
    monkeypatch.setenv("PVAE_DATA", str(tmp_path / "env"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    with pytest.raises(MNISTNotFoundError, match=r"(?s)nowhere.*env/mnist.*cache/pvae/mnist"
                       r".*download=True"):
        mnist(tmp_path / "nowhere")


@pytest.mark.skipif(not SHARED.exists(), reason="the shared MNIST files are not beside the repo")
def test_the_real_mnist():
    data = mnist(SHARED)
    assert data.train.shape == (60_000, 784) and data.test.shape == (10_000, 784)
    assert torch.bincount(data.test_labels).tolist()[:2] == [980, 1135]


@pytest.mark.parametrize(("code", "dtype"), [(0x09, ">i1"), (0x0B, ">i2"), (0x0C, ">i4"),
                                             (0x0D, ">f4"), (0x0E, ">f8")])
def test_every_advertised_idx_type_reads_to_native_values(tmp_path, code, dtype):
    values = np.arange(-6, 6).reshape(3, 4).astype(dtype)
    path = tmp_path / "values.idx"
    path.write_bytes(struct.pack(">BBBB", 0, 0, code, 2) + struct.pack(">2I", 3, 4)
                     + values.tobytes())
    read = read_idx(path)
    np.testing.assert_array_equal(read, values)
    assert read.dtype.isnative
    torch.as_tensor(read)  # torch takes only native byte order


def test_a_corrupt_gzip_stream_is_an_idx_error(tiny_mnist):
    path = tiny_mnist / FILES["train_images"]
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2: len(raw) // 2 + 40] = bytes(40)  # zeros in the deflate stream
    path.write_bytes(bytes(raw))
    with pytest.raises(IDXError, match=str(path.name)):
        mnist(tiny_mnist)


def test_images_and_labels_must_be_the_same_set(tiny_mnist):
    write_idx(tiny_mnist / FILES["test_labels"], np.zeros(3))
    with pytest.raises(IDXError, match="holds 4 images but .*t10k-labels.* holds 3 labels"):
        mnist(tiny_mnist)


def test_a_header_of_huge_sizes_reports_the_byte_count_it_claims(tmp_path):
    path = tmp_path / "huge.idx"
    dims = (2**32 - 1,) * 4
    path.write_bytes(struct.pack(">BBBB", 0, 0, 0x08, 4) + struct.pack(">4I", *dims) + b"ab")
    claimed = 4 + 16 + (2**32 - 1) ** 4
    with pytest.raises(IDXError, match=f"holds 22 bytes but its header .* says {claimed}"):
        read_idx(path)
