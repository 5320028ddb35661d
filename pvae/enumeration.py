r"""Read a discrete latent variable's posterior off one trace of an enumerated model.

For a model with one discrete site ``c`` inside the data plate, Pyro's parallel
enumeration evaluates every value ``k`` of ``c`` at once. Summing the log-densities of all
sample sites of that single trace gives the table

.. math:: \ell_{ki} = \log p(x_i, c_i = k) = \log w_k + \log p(x_i \mid c_i = k),

from which the marginal likelihood (logsumexp over k) and the responsibilities
(softmax over k) follow. This is the E-step of EM, and the exact log-likelihood of a
mixture.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from pyro import poutine
from pyro.poutine.messenger import Messenger
from pyro.poutine.util import site_is_subsample

__all__ = ["enumerated_log_joint"]


class _SumOfLogDensities(Messenger):
    """Adds up every sample site's log-density as the model runs, and notes enumerated sites.

    No trace is kept: EM calls this once per iteration, and the sum is all it needs.
    """

    def __init__(self) -> None:
        super().__init__()
        self.total: torch.Tensor | int = 0
        self.enumerated: list[str] = []

    def _pyro_post_sample(self, msg: Any) -> None:
        if site_is_subsample(msg):
            return
        if msg["infer"].get("enumerate") == "parallel":
            self.enumerated.append(msg["name"])
        self.total = self.total + msg["fn"].log_prob(msg["value"])


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
    if len(summed.enumerated) != 1:
        raise ValueError(
            "enumerated_log_joint needs a model with exactly one enumerated discrete site; "
            f"found {summed.enumerated or 'none'}"
        )
    total = summed.total
    assert isinstance(total, torch.Tensor)
    return total.reshape(total.shape[-2], -1)
