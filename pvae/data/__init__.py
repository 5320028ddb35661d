"""Data sets: scikit-learn's digits (embedded default), MNIST (IDX files), binarization."""

from .binarize import binarize, dynamic_binarization
from .dequantize import dequantize
from .digits import Split, digits
from .mnist import IDXError, MNISTNotFoundError, mnist, read_idx
from .prepare import PreparedData, datasets, prepare_data, transforms

__all__ = [
    "IDXError",
    "MNISTNotFoundError",
    "Split",
    "binarize",
    "dequantize",
    "digits",
    "dynamic_binarization",
    "mnist",
    "read_idx",
    "PreparedData",
    "datasets",
    "prepare_data",
    "transforms",
]
