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

__all__ = ["enumerated_log_joint"]


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
    enumerated = poutine.enum(model, first_available_dim=-2)
    nodes: dict[str, Any] = poutine.trace(enumerated).get_trace(*args, **kwargs).nodes
    discrete = [
        name
        for name, site in nodes.items()
        if site["type"] == "sample" and site["infer"].get("enumerate") == "parallel"
    ]
    if len(discrete) != 1:
        raise ValueError(
            "enumerated_log_joint needs a model with exactly one enumerated discrete site; "
            f"found {discrete or 'none'}"
        )
    total: torch.Tensor | int = 0
    for site in nodes.values():
        if site["type"] == "sample":
            total = total + site["fn"].log_prob(site["value"])
    assert isinstance(total, torch.Tensor)
    return total.reshape(total.shape[-2], -1)
