"""Is every observation of a foreign pair inside its distribution's support? Checked first.

pvae's own models check their data (``check_data``) before any work. A foreign pair has no such
hook, so :func:`check_observations` asks the model itself: it runs on every row (in chunks,
without gradients or random draws of the caller's stream) and each observed site's value is
checked against its distribution's support. A count of -1 under a Poisson is then a
:class:`~pvae.validation.DataError` naming the rows, not a divergence many steps later.
"""

from __future__ import annotations

from typing import Any

import torch
from pyro import poutine

from ..validation import DataError
from .probe import probing

__all__ = ["check_observations"]

#: data of more values than this is checked in chunks of rows (a guide that keeps one q per
#: row, an autoguide, can only run on all of them, and such data sets are small)
WHOLE = 2**24


def _bad_rows(value: torch.Tensor, inside: torch.Tensor, rows: int) -> list[int]:
    """The rows (along the first dimension of length ``rows``) with a value outside."""
    outside = ~inside
    if outside.dim() == 0:
        return list(range(rows)) if bool(outside) else []
    for dim, size in enumerate(outside.shape):
        if size == rows:
            other = [d for d in range(outside.dim()) if d != dim]
            flat = outside.any(dim=other) if other else outside
            return flat.nonzero().flatten().tolist()
    return list(range(rows)) if bool(outside.any()) else []


def check_observations(pair: Any, x: torch.Tensor) -> None:
    """Raise :class:`DataError` naming the rows whose observations lie outside their support."""
    chunk = x.shape[0] if x.numel() <= WHOLE else max(1, WHOLE // max(1, x[0].numel()))
    for first in range(0, x.shape[0], chunk):
        rows = x[first:first + chunk]
        with probing(pair.model, pair.guide):
            guide = poutine.trace(pair.guide).get_trace(rows)
            model = poutine.trace(poutine.replay(pair.model, trace=guide)).get_trace(rows)
        for name, site in model.nodes.items():
            if site["type"] != "sample" or not site["is_observed"]:
                continue
            support = site["fn"].support
            value = site["value"]
            if not isinstance(value, torch.Tensor):
                continue
            bad = _bad_rows(value, support.check(value), len(rows))
            if bad:
                shown = ", ".join(str(row + first) for row in bad[:10])
                raise DataError(
                    f"the data lie outside the support of the model's site {name!r} "
                    f"({support}) on {len(bad)} row(s) ({shown}{', ...' if len(bad) > 10 else ''}"
                    f"): give data the likelihood can score, or a likelihood for such data")
