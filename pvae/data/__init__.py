"""Data sets: scikit-learn's digits (embedded default), MNIST (IDX files), binarization."""

from .binarize import binarize, dynamic_binarization
from .dequantize import dequantize
from .digits import Split, digits
from .files import DataFileError
from .mnist import IDXError, MNISTNotFoundError, mnist, read_idx
from .prepare import PreparedData, datasets, prepare_data, transforms
from .table import absolute_paths, check_image_shape

__all__ = [
    "DataFileError",
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
    "absolute_paths",
    "check_image_shape",
]
