"""Keys of a config's ``[data]`` table that no data set reads: figures' image shape, paths.

``image_shape = [height, width]`` says how ``pvae sample`` and ``pvae plot`` draw a row as an
image; ``path`` and ``root`` name files and folders, read from the folder pvae runs in and
stored absolute, so that a checkpoint finds its data from any folder.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from typing import Any

__all__ = ["PATH_KEYS", "absolute_paths", "check_image_shape"]

#: the ``[data]`` keys that name files or folders (``array``'s path, ``idx``'s and MNIST's root)
PATH_KEYS = ("path", "root")


def check_image_shape(data: Mapping[str, Any], model: Mapping[str, Any]) -> None:
    """Raise ``ValueError`` unless ``image_shape`` is two positive ints holding a model's row."""
    if "image_shape" not in data:
        return
    shape = data["image_shape"]
    if not (isinstance(shape, list) and len(shape) == 2 and all(
            isinstance(side, int) and not isinstance(side, bool) and side > 0
            for side in shape)):
        raise ValueError(f"image_shape is [height, width], two positive integers (how pvae "
                         f"sample and pvae plot draw each row); got {shape!r}")
    x_shape = model.get("x_shape")
    if isinstance(x_shape, list) and all(isinstance(side, int) for side in x_shape):
        values = math.prod(x_shape)
        if values != shape[0] * shape[1]:
            raise ValueError(f"image_shape = {shape} holds {shape[0] * shape[1]} values, but "
                             f"[model] x_shape = {x_shape} holds {values}")


def absolute_paths(data: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` with its relative file and folder paths made absolute, from the current folder."""
    return {key: (os.path.abspath(os.path.expanduser(value))
                  if key in PATH_KEYS and isinstance(value, str) and value else value)
            for key, value in data.items()}
