"""Expectation-maximisation for pairs whose discrete latent site Pyro can enumerate."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import Any, Protocol

import torch

from ..pair import m_step_of
from .e_step import EStep

__all__ = ["ONE_THREAD_BELOW", "SupportsEM", "run_em"]

#: Data with fewer values than this (N·D) run EM on one CPU thread. Each E- and M-step is a
#: few dozen operations on tensors of K·N·D values; at this size a parallel region's thread
#: wake-ups (tens of microseconds around each BLAS call, measured on 2 cores) cost more
#: than the work they share, so the steps run several times slower on two threads than on
#: one (benchmarks/gmm.py measures both). Larger data keep the caller's threading. Torch's
#: thread count is the process's: torch work in other Python threads shares the one thread
#: while a small fit runs.
ONE_THREAD_BELOW = 2**14


class SupportsEM(Protocol):
    """A pair that EM can fit: an enumerable ``model`` and a closed-form ``m_step``."""

    def model(self, x: torch.Tensor, num_data: int | None = None) -> None: ...  # noqa: D102

    def m_step(self, x: torch.Tensor, responsibilities: torch.Tensor) -> None: ...  # noqa: D102


def run_em(pair: Any, x: torch.Tensor, *, max_iter: int, tol: float, bar: Any,
           time_limit: float | None = None) -> tuple[list[float], bool]:
    r"""Alternate E- and M-steps until the mean log-likelihood stops rising.

    E-step: one trace of the enumerated model gives :math:`\ell_{kn} = \log p(x_n, c_n=k)`;
    the mean log-likelihood is :math:`\frac1N\sum_n \log\sum_k e^{\ell_{kn}}` and the
    responsibilities are :math:`r_{kn} = \mathrm{softmax}_k(\ell_{kn})`. M-step: the pair's
    closed form. EM never decreases the likelihood, so it stops when one iteration gains
    less than ``tol`` nats per datapoint.

    A pair with a ``closed_form_log_joint(x)`` hook computes the E-step table without
    Pyro's tracing once it has been proven equal to the enumerated one
    (:mod:`pvae.train.e_step`). On the CPU, data of fewer than
    :data:`ONE_THREAD_BELOW` values run on one thread (the caller's count is restored).
    With ``time_limit`` (seconds) it stops after the iteration that passes it, unconverged.

    Returns the negative mean log-likelihood before each M-step and whether it converged.
    """
    if m_step_of(pair) is None:
        raise ValueError(
            f"method='em' needs a pair with a closed-form m_step(x, responsibilities); "
            f"{type(pair).__name__} has none. Use method='svi'."
        )
    losses: list[float] = []
    e_step = EStep(pair)
    started = time.perf_counter()
    with torch.no_grad(), _threads_for(x):
        for iteration in range(max_iter):
            if time_limit is not None and iteration and time.perf_counter() - started > time_limit:
                break
            log_joint = e_step(x)
            log_norm = torch.logsumexp(log_joint, 0)
            pair.m_step(x, torch.exp(log_joint - log_norm))
            losses.append(-float(log_norm.mean()))
            bar.update()
            bar.set_postfix(nll=f"{losses[-1]:.4f} nats/pt", refresh=False)
            if len(losses) > 1 and abs(losses[-2] - losses[-1]) < tol:
                return losses, True
    return losses, False


@contextlib.contextmanager
def _threads_for(x: torch.Tensor) -> Iterator[None]:
    """One CPU thread for data too small to share out (:data:`ONE_THREAD_BELOW`)."""
    before = torch.get_num_threads()
    if x.device.type != "cpu" or x.numel() >= ONE_THREAD_BELOW or before == 1:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)
