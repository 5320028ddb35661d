r"""A minibatch's ELBO scaled to the whole data set, whatever convention the pair follows.

For :math:`N` datapoints seen :math:`B` at a time, the minibatch ELBO is an unbiased
estimate of the full one when every log-density *inside the data plate* is multiplied by
:math:`N / B` (global sites, outside it, count once). A pair may say how it wants this done:

* its ``model`` and ``guide`` take ``num_data`` (pvae's models): they pass it to their data
  plate, ``pyro.plate("data", num_data, subsample=...)``, which scales its sites;
* they take only the data (Pyro's examples, autoguides): pvae scales every sample site whose
  plates include one of size :math:`B` — the plate over the minibatch's rows — by
  :math:`N / B` with a Pyro effect handler, as ``poutine.scale`` would, leaving global sites
  alone.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from pyro.poutine.messenger import Messenger
from pyro.poutine.runtime import Message

__all__ = ["DataPlateScale", "minibatch_callables", "takes_num_data"]


def takes_num_data(fn: Callable[..., Any]) -> bool:
    """Whether ``fn`` accepts a ``num_data`` keyword (by name, or through ``**kwargs``)."""
    try:
        parameters = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):  # builtins and the like: assume the plain convention
        return False
    return any(p.name == "num_data" or p.kind is p.VAR_KEYWORD for p in parameters)


class DataPlateScale(Messenger):
    """Multiply the log-density of every sample site in a plate of ``batch`` rows by N / B."""

    def __init__(self, num_data: int, batch: int) -> None:
        super().__init__()
        self.factor, self.batch = num_data / batch, batch

    def _process_message(self, msg: Message[Any, Any]) -> None:
        if msg["type"] != "sample":
            return
        if any(frame.size == self.batch for frame in msg["cond_indep_stack"]):
            msg["scale"] = msg["scale"] * self.factor


def minibatch_callables(pair: Any, batch: int, num_data: int
                        ) -> tuple[Callable[..., Any], Callable[..., Any], dict[str, Any]]:
    """The model, the guide and the keywords that score a ``batch``-row minibatch of N."""
    if takes_num_data(pair.model) and takes_num_data(pair.guide):
        return pair.model, pair.guide, {"num_data": num_data}
    if batch == num_data:
        return pair.model, pair.guide, {}
    scale = DataPlateScale(num_data, batch)
    return scale(pair.model), scale(pair.guide), {}
