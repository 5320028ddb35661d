r"""Read a discrete latent variable's posterior off one trace of an enumerated model.

For a model with one discrete site ``c`` inside the data plate, Pyro's parallel
enumeration evaluates every value ``k`` of ``c`` at once. Summing the log-densities of all
sample sites of that single trace gives the table

.. math:: \ell_{ki} = \log p(x_i, c_i = k) = \log w_k + \log p(x_i \mid c_i = k),

from which the marginal likelihood (logsumexp over k) and the responsibilities
(softmax over k) follow. This is the E-step of EM, and the exact log-likelihood of a
mixture.

The enumerated values themselves (``arange(K)`` laid out along a free batch dimension)
depend on neither the data nor the parameters. :class:`EnumeratedLogJoint`, which EM calls
once per iteration, lets Pyro enumerate on its first call and puts the same values back in
at later calls, so that they run the model without the enumeration machinery.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from pyro import poutine
from pyro.poutine.messenger import Messenger
from pyro.poutine.util import site_is_subsample

__all__ = ["EnumeratedLogJoint", "enumerated_log_joint"]


class _SumOfLogDensities(Messenger):
    """Adds up every sample site's log-density as the model runs, and notes enumerated sites.

    No trace is kept: the sum is all the E-step needs. Given ``replayed`` values, it puts
    them in at the sites of those names.
    """

    def __init__(self, replayed: dict[str, torch.Tensor] | None = None) -> None:
        super().__init__()
        self.replayed = replayed or {}
        self.total: torch.Tensor | int = 0
        self.enumerated: dict[str, torch.Tensor] = {}

    def _pyro_sample(self, msg: Any) -> None:
        if msg["name"] in self.replayed:
            msg["value"] = self.replayed[msg["name"]]
            msg["done"] = True

    def _pyro_post_sample(self, msg: Any) -> None:
        if site_is_subsample(msg):
            return
        if msg["infer"].get("enumerate") == "parallel":
            self.enumerated[msg["name"]] = msg["value"]
        self.total = self.total + msg["fn"].log_prob(msg["value"])


def _table(summed: _SumOfLogDensities) -> torch.Tensor:
    if len(summed.enumerated) != 1:
        raise ValueError(
            "enumerated_log_joint needs a model with exactly one enumerated discrete site; "
            f"found {list(summed.enumerated) or 'none'}"
        )
    total = summed.total
    assert isinstance(total, torch.Tensor)
    return total.reshape(total.shape[-2], -1)


def enumerated_log_joint(model: Callable[..., Any], *args: Any, **kwargs: Any) -> torch.Tensor:
    r"""Return :math:`\log p(x_i, c_i = k)` as a ``(K, N)`` tensor.

    Parameters
    ----------
    model : callable
        A Pyro model with exactly one discrete site marked for parallel enumeration
        (``infer={"enumerate": "parallel"}``) inside a single plate over the data.
    *args, **kwargs
        Passed to the model.

    Raises
    ------
    ValueError
        If the model has no enumerated site, or more than one.
    """
    with _SumOfLogDensities() as summed:
        poutine.enum(model, first_available_dim=-2)(*args, **kwargs)
    return _table(summed)


class EnumeratedLogJoint:
    """:func:`enumerated_log_joint` of one model, called again and again (EM's E-step).

    The first call enumerates (and checks the model as :func:`enumerated_log_joint` does);
    later calls put the enumerated values of the first back in, which gives the same table
    without running Pyro's enumeration again.
    """

    def __init__(self, model: Callable[..., Any]) -> None:
        if not callable(model):
            raise TypeError(f"EnumeratedLogJoint needs a model to call; got "
                            f"{type(model).__name__}")
        self.model = model
        self._values: dict[str, torch.Tensor] | None = None

    def __call__(self, *args: Any, **kwargs: Any) -> torch.Tensor:
        r"""The ``(K, N)`` table :math:`\log p(x_i, c_i = k)` at the current parameters."""
        if self._values is None:
            with _SumOfLogDensities() as summed:
                poutine.enum(self.model, first_available_dim=-2)(*args, **kwargs)
            table = _table(summed)
            self._values = summed.enumerated
            return table
        with _SumOfLogDensities(replayed=self._values) as summed:
            self.model(*args, **kwargs)
        return _table(summed)
