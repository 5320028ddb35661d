"""The one place where user input is checked and turned into tensors.

Every public entry point that takes data calls :func:`as_data` first, so that a mistake
is reported before any work starts, with a message that says what was wrong and what to
do about it.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

__all__ = ["DataError", "as_data", "as_observations", "check_min_points", "check_nonnegative_int",
           "check_nonnegative_number", "check_positive_int", "check_positive_number",
           "check_count", "check_seed", "check_spread"]


class DataError(ValueError):
    """User data that a model cannot use as given."""


def as_data(
    x: Any,
    *,
    event_dims: tuple[int, ...] = (0, 1),
    name: str = "data",
    dtype: torch.dtype | None = None,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Check ``x`` and return it as a floating-point tensor of shape ``(N, *event)``.

    Parameters
    ----------
    x : tensor, numpy array or (nested) list
        The observations, one per row. Floating-point input keeps its precision (float64
        stays float64); integer and boolean input becomes torch's default float type.
    event_dims : tuple of int
        The accepted numbers of dimensions of one observation: ``(0, 1)`` accepts both
        ``(N,)`` scalars and ``(N, D)`` vectors.
    name : str
        How the data is called in error messages.
    dtype, device : optional
        Convert to this dtype and move to this device after the checks.

    Raises
    ------
    DataError
        If ``x`` is not numeric (or is complex), is empty, has the wrong number of
        dimensions, or holds NaN or infinite values.
    """
    if isinstance(x, torch.Tensor):
        tensor = x.detach()
    else:
        try:
            array = np.asarray(x)
        except (TypeError, ValueError) as error:  # ragged lists and the like
            raise DataError(f"{name} could not be read as an array: "
                            f"{str(error).splitlines()[0]}") from None
        numeric = np.issubdtype(array.dtype, np.number) or array.dtype == bool
        if array.dtype == object or not numeric:
            raise DataError(f"{name} must be numeric; got an array of dtype {array.dtype}")
        if np.issubdtype(array.dtype, np.complexfloating):
            raise DataError(f"{name} holds complex numbers; pvae's models are for real "
                            "values (take .real, or abs(), first)")
        tensor = torch.as_tensor(array.astype(array.dtype.newbyteorder("=")))
    if tensor.is_complex():
        raise DataError(f"{name} holds complex numbers; pvae's models are for real values "
                        "(take .real, or abs(), first)")
    if tensor.dtype in (torch.float16, torch.bfloat16):
        tensor = tensor.float()  # half precision is promoted: the models compute in float32
    elif not tensor.is_floating_point():
        tensor = tensor.to(torch.get_default_dtype())
    allowed = ", ".join(f"{1 + d}-D" for d in event_dims)
    if tensor.dim() - 1 not in event_dims:
        raise DataError(
            f"{name} must be {allowed} (one observation per row); got shape {tuple(tensor.shape)}"
        )
    if tensor.shape[0] == 0:
        raise DataError(f"{name} is empty: it needs at least one observation (row)")
    if tensor[0].numel() == 0:
        raise DataError(f"{name} has observations of shape {tuple(tensor.shape[1:])}: each "
                        "holds no values")
    # The sum is finite when every value is (a tenth of the time of an element-wise check);
    # only a sum that overflows, or data that is not finite, is looked at value by value.
    finite = torch.isfinite(tensor.sum()) or torch.isfinite(tensor)
    if not bool(finite.all()):
        bad = (~finite).reshape(tensor.shape[0], -1).any(-1).nonzero().flatten()
        kind = "NaN" if bool(torch.isnan(tensor).any()) else "infinite"
        raise DataError(
            f"{name} holds {kind} values in {bad.numel()} of {tensor.shape[0]} rows "
            f"(first: row {int(bad[0])}); drop or impute those rows before fitting"
        )
    if dtype is not None or device is not None:
        tensor = tensor.to(dtype=dtype or tensor.dtype, device=device)
    return tensor


def as_observations(x: Any, event_shape: tuple[int, ...], *, model: str,
                    name: str = "data") -> torch.Tensor:
    """:func:`as_data`, then check that every row has the shape ``event_shape``.

    ``model`` names what expects the shape in the error message, e.g. ``"this VAE"``.
    """
    tensor = as_data(x, event_dims=tuple(range(0, 6)), name=name)
    if tuple(tensor.shape[1:]) != tuple(event_shape):
        expected = ", ".join(["N", *map(str, event_shape)])
        hint = (" (flatten the rows with x.reshape(len(x), -1))"
                if len(event_shape) == 1 and tensor.dim() > 2
                and math.prod(tensor.shape[1:]) == math.prod(event_shape) else "")
        raise DataError(f"{model} expects {name} of shape ({expected}); got "
                        f"{tuple(tensor.shape)}{hint}")
    return tensor


def check_min_points(x: torch.Tensor, minimum: int, why: str) -> None:
    """Raise :class:`DataError` unless ``x`` has at least ``minimum`` rows."""
    if x.shape[0] < minimum:
        raise DataError(f"{why}: need at least {minimum} observations, got {x.shape[0]}")


def check_spread(x: torch.Tensor, name: str = "data") -> None:
    """Raise :class:`DataError` if some dimension of ``x`` has zero variance.

    A Gaussian fitted to constant data has zero scale and an infinite likelihood: the
    maximum does not exist.
    """
    flat = x.reshape(x.shape[0], -1)
    constant = (flat.max(0).values == flat.min(0).values).nonzero().flatten()
    if constant.numel():
        where = "" if x.dim() == 1 else f" in dimension(s) {constant.tolist()[:10]}"
        raise DataError(
            f"{name} has zero variance{where}: every value is the same, so the maximum-"
            "likelihood scale is 0 and the likelihood is unbounded. Remove constant "
            "dimensions or add noise."
        )


def _is_int(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | np.integer)


def check_positive_int(value: Any, name: str) -> int:
    """Return ``value`` as an int, or raise ``ValueError`` unless it is an integer >= 1."""
    if not _is_int(value) or value < 1:
        raise ValueError(f"{name} must be a positive integer; got {value!r}")
    return int(value)


def check_bool(value: Any, name: str) -> bool:
    """``value`` if it is a boolean; a string such as ``"no"`` is truthy, so it is refused."""
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False; got {value!r}")
    return value


def check_nonnegative_int(value: Any, name: str) -> int:
    """Return ``value`` as an int, or raise ``ValueError`` unless it is an integer >= 0."""
    if not _is_int(value) or value < 0:
        raise ValueError(f"{name} must be an integer >= 0; got {value!r}")
    return int(value)


def _as_number(value: Any, name: str, kind: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ValueError(f"{name} must be a {kind} number; got {value!r}")
    return float(value)


def check_nonnegative_number(value: Any, name: str) -> float:
    """Return ``value`` as a float, or raise ``ValueError`` unless it is finite and >= 0."""
    number = _as_number(value, name, "non-negative")
    if not (math.isfinite(number) and number >= 0):
        raise ValueError(f"{name} must be finite and >= 0; got {value!r}")
    return number


def check_positive_number(value: Any, name: str, *, at_most: float | None = None) -> float:
    """Return ``value`` as a float, or raise ``ValueError`` unless it is finite and > 0.

    With ``at_most``, the value must also be ``<= at_most``.
    """
    number = _as_number(value, name, "positive")
    if not (math.isfinite(number) and number > 0) or (at_most is not None and number > at_most):
        bound = f" and {name} <= {at_most}" if at_most is not None else ""
        raise ValueError(f"{name} must be positive and finite ({name} > 0{bound}); "
                         f"got {value!r}")
    return number


#: the most values one call may produce at once (about 1 GB of float32)
MAX_ELEMENTS = 2**28


def check_count(value: Any, name: str, *, each: int = 1) -> int:
    """A positive number of things of ``each`` values, small enough to fit in memory."""
    count = check_positive_int(value, name)
    if count * each > MAX_ELEMENTS:
        raise ValueError(f"{name}={count} would make {count * each:.3g} values at once (more "
                         f"than {MAX_ELEMENTS:.3g}, about 1 GB); ask for fewer, in batches")
    return count


def check_seed(value: Any, name: str = "seed") -> int | None:
    """Return a seed (``None`` or an integer in ``[0, 2**32)``, what every generator takes)."""
    if value is None:
        return None
    if not _is_int(value) or not 0 <= value < 2**32:
        raise ValueError(f"{name} must be None or an integer from 0 to 2**32 - 1; got {value!r}")
    return int(value)
