r"""A minibatch's ELBO scaled to the whole data set, whatever convention the pair follows.

For :math:`N` datapoints seen :math:`B` at a time, the minibatch ELBO is an unbiased
estimate of the full one when every log-density *inside the data plate* is multiplied by
:math:`N / B` (global sites, outside it, count once). A pair may say how it wants this done:

* its ``model`` and ``guide`` take ``num_data`` (pvae's models): they pass it to their data
  plate, ``pyro.plate("data", num_data, subsample=...)``, which scales its sites;
* they take only the data (Pyro's examples, autoguides): pvae finds the data plate itself —
  the plate whose size follows the number of rows the model is given — and multiplies the
  log-density of every site inside it by :math:`N / B` with a Pyro effect handler, as
  ``poutine.scale`` would, leaving global sites alone.

A guide that keeps one set of parameters per datapoint (an autoguide over a latent site in
the data plate) cannot be trained on minibatches: its parameters are indexed by position in
the batch, not by datapoint. pvae refuses it with the reason instead of training it wrongly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from pyro.poutine.messenger import Messenger
from pyro.poutine.runtime import Message

from ..signatures import signature_of
from .protocol import PairError, data_plates, per_datapoint_sites

__all__ = ["DATA_SCALE", "DataPlateScale", "Minibatches", "minibatches", "takes_num_data"]

#: the key of a site's ``infer`` under which :class:`DataPlateScale` notes the N / B it
#: applied, for objectives that apply it themselves (a plate that subsamples says it in its
#: frame)
DATA_SCALE = "pvae_data_scale"


def takes_num_data(fn: Callable[..., Any]) -> bool:
    """Whether ``fn`` (a module: its ``forward``) names a ``num_data`` parameter.

    ``**kwargs`` does not count: an autoguide passes its keywords on to a model that may not
    take them.
    """
    target = fn.forward if isinstance(fn, torch.nn.Module) else fn
    try:
        parameters = signature_of(target).parameters
    except (TypeError, ValueError):  # builtins and the like: assume the plain convention
        return False
    return "num_data" in parameters


class DataPlateScale(Messenger):
    """Multiply the log-density of every sample site inside one of ``plates`` by ``factor``."""

    def __init__(self, factor: float, plates: frozenset[str]) -> None:
        super().__init__()
        self.factor, self.plates = factor, plates

    def _process_message(self, msg: Message[Any, Any]) -> None:
        if msg["type"] == "sample" and any(frame.name in self.plates
                                           for frame in msg["cond_indep_stack"]):
            msg["scale"] = msg["scale"] * self.factor
            site: Any = msg  # N / B noted for objectives that apply it themselves
            infer = site["infer"] or {}
            site["infer"] = {**infer, DATA_SCALE: infer.get(DATA_SCALE, 1.0) * self.factor}


@dataclass(frozen=True)
class Minibatches:
    """How a pair scores a minibatch of ``num_data`` rows: by ``num_data`` or by scaling.

    ``plates`` is ``None`` for pairs that take ``num_data``; otherwise the names of the
    plates over the data's rows, whose sites are scaled by N / B.
    """

    num_data: int
    plates: frozenset[str] | None

    def callables(self, pair: Any, rows: int
                  ) -> tuple[Callable[..., Any], Callable[..., Any], dict[str, Any]]:
        """The model, the guide and the keywords that score ``rows`` of the data set."""
        if rows == self.num_data or self.plates == frozenset():
            return pair.model, pair.guide, {}
        if self.plates is None:
            return pair.model, pair.guide, {"num_data": self.num_data}
        scale = DataPlateScale(self.num_data / rows, self.plates)
        return scale(pair.model), scale(pair.guide), {}


def minibatches(pair: Any, x: torch.Tensor, batch_size: int | None) -> Minibatches:
    """Check that ``pair`` can be trained on minibatches of ``x``; say how to scale them."""
    n = x.shape[0]
    if takes_num_data(pair.model) and takes_num_data(pair.guide):
        return Minibatches(n, None)
    if batch_size is None or batch_size >= n:
        return Minibatches(n, frozenset())
    plates = data_plates(pair.model, x) if n >= 3 else frozenset()
    if not plates:
        raise PairError(
            f"minibatches of {batch_size} rows need a plate over the data's rows "
            "(pyro.plate('data', len(x))) so that pvae knows which sites to scale by N/B; "
            f"{type(pair).__name__}.model has none. Add one, or fit full-batch "
            "(batch_size=None)")
    local = per_datapoint_sites(pair, x, plates)
    if local:
        raise PairError(
            f"{type(pair.guide).__name__} keeps one q per datapoint for the local latent "
            f"site(s) {local}, indexed by position in the batch, so minibatches would train "
            "it on the wrong rows. Fit full-batch (batch_size=None), or use an amortised "
            "guide (an encoder) as pvae.VAE does")
    return Minibatches(n, plates)
