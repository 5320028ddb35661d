"""A user's own data as a data set: arrays in a ``.npy``, ``.npz`` or ``.pt`` file, or IDX folders.

In a config::

    [data]
    name = "array"
    path = "my_images.npz"      # arrays "train" and "test" (and "train_labels", "test_labels")

    [data]
    name = "idx"
    root = "data/fashion"       # the four MNIST-named files: Fashion-MNIST, KMNIST, ...

Each is checked as the built-in sets are (numeric, finite, one row per observation, train
and test of the same width), and fails with a :class:`DataFileError` naming the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..registry import closest
from ..validation import DataError, as_data
from .digits import Split
from .mnist import FILES, read_split

__all__ = ["ARRAY_SUFFIXES", "DataFileError", "array_file", "idx_folder"]

ARRAY_SUFFIXES = (".npy", ".npz", ".pt")
#: held out for testing when a file holds one array
TEST_FRACTION = 0.2
SPLIT_SEED = 0
#: an image of at most 7 axes per observation (rows, columns, channels, ...)
_EVENT_DIMS = tuple(range(1, 8))
#: the arrays a file with its own split may hold
SPLIT_KEYS = ("train", "test", "train_labels", "test_labels")


class DataFileError(ValueError):
    """A data file that is missing, unreadable, or does not hold usable arrays."""


def array_file(path: str | Path, test_fraction: float | None = None,
               levels: int | None = None) -> Split:
    """The arrays in ``path`` as a train/test split of rows.

    ``path`` is a ``.npy`` file (one array), a ``.npz`` file or a ``.pt`` file (a tensor, or
    a dict of tensors). A file with arrays named ``train`` and ``test`` gives that split
    (``train_labels`` / ``test_labels`` are read when present); a file with one array is
    split once, with a fixed seed, holding out ``test_fraction`` of its rows (0.2 when not
    given; a file that has its own split refuses it). Each
    observation is flattened to a row. ``uint8`` arrays are grey levels 0..255, scaled to
    [0, 1] (256 levels); other numbers are kept as they are, and ``levels`` says how many
    grey levels they have (needed only to dequantize). Rows without labels get label -1. A
    ``.pt`` tensor that requires grad is detached, and a bfloat16 one read as float32.

    Raises
    ------
    DataFileError
        When the file is missing or unreadable, holds no array, holds an array beside
        ``train`` and ``test`` that is not one of :data:`SPLIT_KEYS` (a misspelt
        ``train_labels``), or its arrays are not numeric, finite, one observation per row,
        of the same width, or of the same kind (8-bit grey levels in one, other numbers in
        the other: they would be on different scales).
    """
    path = _as_path(path, "path")
    if path.suffix not in ARRAY_SUFFIXES:
        raise DataFileError(f"{path}: an array data set is a {', '.join(ARRAY_SUFFIXES)} file; "
                            f"got {path.suffix or 'no suffix'}")
    if not path.is_file():
        raise DataFileError(f"{path}: no such file" + (
            "" if path.is_absolute() else " (a relative path is read from the folder pvae "
                                          "runs in)"))
    fraction = TEST_FRACTION if test_fraction is None else test_fraction
    if isinstance(fraction, bool) or not isinstance(fraction, int | float) or \
            not 0 < fraction < 1:
        raise DataFileError(f"{path}: test_fraction must lie strictly between 0 and 1; got "
                            f"{test_fraction!r}")
    arrays = _read(path)
    if "train" in arrays and "test" in arrays:
        _check_split_arrays(path, arrays)
        if test_fraction is not None:
            raise DataFileError(f"{path} holds its own 'train' and 'test' arrays: "
                                "test_fraction has nothing to split; leave it out")
        train, test = (_rows(arrays[key], f"{path} [{key!r}]") for key in ("train", "test"))
        labels = [_labels(arrays.get(f"{key}_labels"), len(rows), f"{path} [{key}_labels]")
                  for key, rows in (("train", train), ("test", test))]
    elif len(arrays) == 1:
        (name, only), = arrays.items()
        everything = _rows(only, f"{path} [{name!r}]" if name else str(path))
        train, test, labels = _split(everything, fraction, str(path))
    else:
        raise DataFileError(f"{path} holds arrays {sorted(arrays)}: name them 'train' and "
                            "'test' (with optional 'train_labels', 'test_labels'), or store one "
                            "array to be split")
    if train.shape[1] != test.shape[1]:
        raise DataFileError(f"{path}: the training rows have {train.shape[1]} values and the "
                            f"test rows {test.shape[1]}; they must be the same data")
    grey = all(arrays[key].dtype == np.uint8 for key in arrays if not key.endswith("labels"))
    if grey:
        train, test = train / 255.0, test / 255.0
    if grey and levels not in (None, 256):
        raise DataFileError(f"{path} holds uint8 grey levels, which are 256 levels; "
                            f"levels={levels!r} disagrees: leave it out")
    return Split(train, test, labels[0], labels[1], 256 if grey else levels)


def idx_folder(root: str | Path) -> Split:
    """The four MNIST-named IDX files in ``root`` (gzipped or not): Fashion-MNIST, KMNIST, ...

    Raises
    ------
    DataFileError
        When ``root`` is not a folder or misses one of the files.
    IDXError
        When a file is corrupt, or the files do not hold images and their labels.
    """
    folder = _as_path(root, "root")
    if not folder.is_dir():
        raise DataFileError(f"{folder}: no such folder (the [data] root of an 'idx' data set "
                            "is a folder holding the four IDX files)")
    found = {key: _either(folder, name) for key, name in FILES.items()}
    missing = [FILES[key] for key, file in found.items() if file is None]
    if missing:
        raise DataFileError(f"{folder} lacks {', '.join(missing)} (gzipped or not): an IDX data "
                            f"set needs {', '.join(FILES.values())}")
    return read_split({key: file for key, file in found.items() if file is not None})


def _check_split_arrays(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Refuse an unknown array beside ``train`` and ``test``, and halves on two scales."""
    for name in arrays:
        if name not in SPLIT_KEYS:
            raise DataFileError(f"{path} holds an array {name!r} that pvae does not read "
                                f"beside 'train' and 'test'.{closest(name, list(SPLIT_KEYS))} "
                                f"The arrays it reads: {', '.join(SPLIT_KEYS)}.")
    grey = {key: arrays[key].dtype == np.uint8 for key in ("train", "test")}
    if grey["train"] != grey["test"]:
        raise DataFileError(
            f"{path}: 'train' holds {arrays['train'].dtype} and 'test' {arrays['test'].dtype} "
            "values; uint8 grey levels are scaled to [0, 1] and other numbers kept as they "
            "are, so the two would be on different scales: store both as uint8, or both as "
            "floats on one scale")


def _as_array(tensor: torch.Tensor, path: Path, name: str) -> np.ndarray:
    """A stored tensor as an array: detached, bfloat16 read as float32 (numpy has none)."""
    value = tensor.detach()
    if value.dtype == torch.bfloat16:
        value = value.float()
    try:
        return value.cpu().numpy()
    except (TypeError, RuntimeError) as error:  # sparse, quantised, or of a dtype numpy lacks
        where = f"{path} [{name!r}]" if name else str(path)
        reason = str(error).strip().splitlines()[0] if str(error).strip() else \
            type(error).__name__
        raise DataFileError(f"{where} holds a {value.dtype} tensor that is not a plain array "
                            f"({reason}); save a dense float or uint8 tensor") from None


def _as_path(value: Any, name: str) -> Path:
    if not isinstance(value, str | Path) or not str(value):
        raise DataFileError(f"[data] {name} must be a file path (a string); got {value!r}")
    return Path(value)


def _either(folder: Path, gzipped: str) -> Path | None:
    for name in (gzipped, gzipped.removesuffix(".gz")):
        if (folder / name).is_file():
            return folder / name
    return None


def _read(path: Path) -> dict[str, np.ndarray]:
    """The file's arrays by name (``""`` for a file of one unnamed array)."""
    try:
        if path.suffix == ".npy":
            return {"": np.load(path, allow_pickle=False)}
        if path.suffix == ".npz":
            with np.load(path, allow_pickle=False) as archive:
                return {name: archive[name] for name in archive.files}
        stored: Any = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # noqa: BLE001 - numpy and torch fail in many ways on a bad file
        reason = str(error).strip().splitlines()[0] if str(error).strip() else \
            type(error).__name__
        raise DataFileError(f"{path} could not be read as arrays ({reason}); save plain "
                            "numeric arrays (numpy.save / numpy.savez / torch.save of tensors)"
                            ) from None
    if isinstance(stored, torch.Tensor):
        return {"": _as_array(stored, path, "")}
    if isinstance(stored, dict) and stored and all(isinstance(v, torch.Tensor)
                                                   for v in stored.values()):
        return {str(name): _as_array(value, path, str(name)) for name, value in stored.items()}
    raise DataFileError(f"{path} holds a {type(stored).__name__}, not a tensor or a dict of "
                        "tensors")


def _rows(array: np.ndarray, name: str) -> torch.Tensor:
    try:
        tensor = as_data(array, event_dims=_EVENT_DIMS, name=name)
    except DataError as error:
        raise DataFileError(str(error)) from None
    return tensor.reshape(len(tensor), -1)


def _labels(array: np.ndarray | None, rows: int, name: str) -> torch.Tensor:
    if array is None:
        return torch.full((rows,), -1, dtype=torch.int64)
    if array.shape != (rows,) or not np.issubdtype(array.dtype, np.integer):
        raise DataFileError(f"{name} must be {rows} integer labels, one per row; got "
                            f"{array.dtype} of shape {array.shape}")
    return torch.as_tensor(array.astype(np.int64))


def _split(rows: torch.Tensor, test_fraction: float, name: str
           ) -> tuple[torch.Tensor, torch.Tensor, list[torch.Tensor]]:
    n_test = round(test_fraction * len(rows))
    if n_test < 1 or n_test >= len(rows):
        raise DataFileError(f"{name} has {len(rows)} rows: too few to hold out "
                            f"test_fraction={test_fraction} of them and keep some to train on")
    order = torch.randperm(len(rows), generator=torch.Generator().manual_seed(SPLIT_SEED))
    unlabelled = [torch.full((len(rows) - n_test,), -1, dtype=torch.int64),
                  torch.full((n_test,), -1, dtype=torch.int64)]
    return rows[order[n_test:]], rows[order[:n_test]], unlabelled

