"""Expectation-maximisation for pairs whose discrete latent site Pyro can enumerate."""

from __future__ import annotations

import time
from typing import Any, Protocol

import pyro
import torch
from pyro.infer.util import is_validation_enabled
from tqdm.auto import tqdm

from ..objectives import EnumeratedLogJoint
from ..pair import m_step_of

__all__ = ["SupportsEM", "run_em"]


class SupportsEM(Protocol):
    """A pair that EM can fit: an enumerable ``model`` and a closed-form ``m_step``."""

    def model(self, x: torch.Tensor, num_data: int | None = None) -> None: ...  # noqa: D102

    def m_step(self, x: torch.Tensor, responsibilities: torch.Tensor) -> None: ...  # noqa: D102


def run_em(pair: Any, x: torch.Tensor, *, max_iter: int, tol: float, bar: tqdm,
           time_limit: float | None = None) -> tuple[list[float], bool]:
    r"""Alternate E- and M-steps until the mean log-likelihood stops rising.

    E-step: one trace of the enumerated model gives :math:`\ell_{kn} = \log p(x_n, c_n=k)`;
    the mean log-likelihood is :math:`\frac1N\sum_n \log\sum_k e^{\ell_{kn}}` and the
    responsibilities are :math:`r_{kn} = \mathrm{softmax}_k(\ell_{kn})`. M-step: the pair's
    closed form. EM never decreases the likelihood, so it stops when one iteration gains
    less than ``tol`` nats per datapoint.

    With ``time_limit`` (seconds) it stops after the iteration that passes it, unconverged.

    Returns the negative mean log-likelihood before each M-step and whether it converged.
    """
    if m_step_of(pair) is None:
        raise ValueError(
            f"method='em' needs a pair with a closed-form m_step(x, responsibilities); "
            f"{type(pair).__name__} has none. Use method='svi'."
        )
    losses: list[float] = []
    e_step = EnumeratedLogJoint(pair.model)
    started = time.perf_counter()
    with torch.no_grad():
        for iteration in range(max_iter):
            if time_limit is not None and iteration and time.perf_counter() - started > time_limit:
                break
            # The first E-step checks every distribution's arguments; the later ones, on
            # parameters that the closed-form M-step keeps valid, skip those checks.
            with pyro.validation_enabled(is_validation_enabled() and iteration == 0):
                log_joint = e_step(x)
            log_norm = torch.logsumexp(log_joint, 0)
            pair.m_step(x, torch.exp(log_joint - log_norm))
            losses.append(-float(log_norm.mean()))
            bar.update()
            bar.set_postfix(nll=f"{losses[-1]:.4f} nats/pt", refresh=False)
            if len(losses) > 1 and abs(losses[-2] - losses[-1]) < tol:
                return losses, True
    return losses, False
