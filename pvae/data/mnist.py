"""MNIST from the standard gzip IDX files, read by pvae's own parser."""

from __future__ import annotations

import gzip
import math
import os
import struct
import urllib.request
import zlib
from pathlib import Path

import numpy as np
import torch

from .digits import Split

__all__ = ["FILES", "IDXError", "MNISTNotFoundError", "mnist", "read_idx", "read_split"]

FILES = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}
MIRROR = "https://ossci-datasets.s3.amazonaws.com/mnist/"
#: IDX type codes -> numpy dtypes (multi-byte types are big-endian)
IDX_TYPES: dict[int, np.dtype] = {0x08: np.dtype("u1"), 0x09: np.dtype("i1"), 0x0B: np.dtype(">i2"),
             0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}


class IDXError(ValueError):
    """A file that is not a well-formed IDX file."""


class MNISTNotFoundError(FileNotFoundError):
    """The MNIST files are in none of the places pvae looks."""


def read_idx(path: Path) -> np.ndarray:
    """Parse one (optionally gzipped) IDX file: magic number, dimensions, then the data.

    Raises
    ------
    IDXError
        For a bad magic number, an unknown type code, or a length that does not match the
        dimensions (a truncated or padded file).
    """
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as handle:
            raw = handle.read()
    except (OSError, EOFError, zlib.error) as error:  # a truncated or corrupt gzip stream
        raise IDXError(f"{path} could not be read ({error}); delete it and fetch it again") \
            from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise IDXError(f"{path} is not an IDX file (bad magic number)")
    type_code, ndim = raw[2], raw[3]
    if type_code not in IDX_TYPES:
        raise IDXError(f"{path} has unknown IDX type code {type_code:#x}")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise IDXError(f"{path} is truncated inside its header")
    shape = struct.unpack(f">{ndim}I", raw[4:header])
    dtype: np.dtype = IDX_TYPES[type_code]
    expected = header + math.prod(shape) * dtype.itemsize  # Python ints: no overflow
    if len(raw) != expected:
        raise IDXError(f"{path} holds {len(raw)} bytes but its header {shape} says {expected}: "
                       "the file is truncated or corrupt; delete it and fetch it again")
    values = np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)
    return values.astype(dtype.newbyteorder("="))  # big-endian on disk, native in memory


def _check_pair(image_file: Path, label_file: Path, images: np.ndarray,
                labels: np.ndarray) -> None:
    """Images (N, rows, cols) of grey levels and N labels, or an IDXError naming the file."""
    if images.ndim != 3:
        raise IDXError(f"{image_file} holds an array of shape {images.shape}, not images "
                       "(N, rows, columns)")
    if 0 in images.shape:
        raise IDXError(f"{image_file} holds no images: its header counts {images.shape[0]} "
                       f"images of {images.shape[1]} x {images.shape[2]} pixels; it is empty "
                       "or its header is damaged: fetch it again")
    if labels.ndim != 1:
        raise IDXError(f"{label_file} holds an array of shape {labels.shape}, not labels (N,)")
    if len(images) != len(labels):
        raise IDXError(f"{image_file} holds {len(images)} images but {label_file} holds "
                       f"{len(labels)} labels; the files belong to different sets")
    if images.dtype != np.uint8:
        raise IDXError(f"{image_file} holds {images.dtype} values, not 8-bit grey levels")


def read_split(files: dict[str, Path], dtype: torch.dtype | None = None) -> Split:
    """The images and labels of four IDX files (keyed as :data:`FILES`), pixels in [0, 1]."""
    arrays = {key: read_idx(path) for key, path in files.items()}
    for split in ("train", "test"):
        _check_pair(files[f"{split}_images"], files[f"{split}_labels"],
                    arrays[f"{split}_images"], arrays[f"{split}_labels"])
    as_float = dtype or torch.get_default_dtype()

    def images(key: str) -> torch.Tensor:
        pixels = torch.as_tensor(arrays[key].reshape(len(arrays[key]), -1).copy())
        return pixels.to(as_float) / 255.0

    return Split(images("train_images"), images("test_images"),
                 torch.as_tensor(arrays["train_labels"].astype(np.int64)),
                 torch.as_tensor(arrays["test_labels"].astype(np.int64)), levels=256)


def _candidates(root: str | Path | None) -> list[Path]:
    places = []
    if root is not None:
        places.append(Path(root))
    if os.environ.get("PVAE_DATA"):
        places.append(Path(os.environ["PVAE_DATA"]) / "mnist")
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    places.append(cache / "pvae" / "mnist")
    return places


def _download(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name in FILES.values():
        target = folder / name
        if not target.exists():
            partial = target.with_suffix(".part")
            urllib.request.urlretrieve(MIRROR + name, partial)  # noqa: S310 (fixed https URL)
            partial.rename(target)


def mnist(root: str | Path | None = None, *, download: bool = False,
          dtype: torch.dtype | None = None) -> Split:
    """MNIST as 784-pixel rows scaled to [0, 1]: 60 000 training and 10 000 test images.

    Looks for the four standard ``*-ubyte.gz`` files in ``root``, then in
    ``$PVAE_DATA/mnist``, then in ``~/.cache/pvae/mnist``. With ``download=True`` and a
    network, missing files are fetched into the first of those places.

    Raises
    ------
    MNISTNotFoundError
        When no place holds all four files; the message lists where it looked.
    IDXError
        When a file is corrupt or truncated.
    """
    places = _candidates(root)
    found = next((p for p in places if all((p / f).exists() for f in FILES.values())), None)
    if found is None and download:
        _download(places[0])
        found = places[0]
    if found is None:
        looked = "\n  ".join(str(p) for p in places)
        raise MNISTNotFoundError(
            f"MNIST files ({', '.join(FILES.values())}) were not found in:\n  {looked}\n"
            "Put them in one of these folders (or point $PVAE_DATA at a folder holding "
            "mnist/), or call mnist(download=True) where a network is available."
        )
    return read_split({key: found / name for key, name in FILES.items()}, dtype)
