r"""The chains of a model that does not broadcast over them: each chain runs the model alone.

:func:`~pvae.evidence` runs its chains in one call, under a plate of chains left of the
model's own plates. A model written for one value of its latents (``features @ weights``,
``torch.dot``, indexing by a latent) does not run that way. Its chains then run the model
on their own, with the same arithmetic: the log-density of chain :math:`c`,

.. math:: \log p(x, \theta_c) = \sum_{\text{sites } j} \log p_j(v_j \mid \theta_c),

is computed by ``torch.func.vmap`` over the chains (one call, each chain seeing unbatched
values), or, where vmap cannot run the model (data-dependent control flow, an operation
without a batching rule), one chain after another. The start draws come from the prior
under the plate of chains up to the model's last latent where that part of the model
broadcasts (the draws are then the broadcast path's own, to the bit), else one chain at a
time. Either way :class:`UnbatchedModelWarning` says once which path runs and why.
"""

from __future__ import annotations

import contextlib
import contextvars
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import torch
from pyro import poutine
from pyro.poutine.messenger import Messenger
from pyro.poutine.util import site_is_subsample

__all__ = ["UnbatchedModelWarning", "broadcast_draws", "choose_mapping", "draws_in_sequence",
           "per_chain_log_densities", "said_once"]

#: the messages already said within one call of an estimator (see :func:`said_once`)
_SAID: contextvars.ContextVar[set[str] | None] = contextvars.ContextVar("said", default=None)


class UnbatchedModelWarning(UserWarning):
    """A model that does not broadcast over the chains: they run it one by one (slower)."""


@contextlib.contextmanager
def said_once() -> Iterator[None]:
    """Within the block, :class:`UnbatchedModelWarning` says each message once.

    An estimate that builds the chains more than once (the convergence check runs AIS a
    second time; discrete latents run it per value) warns once for the whole call.
    """
    token = _SAID.set(set())
    try:
        yield
    finally:
        _SAID.reset(token)


class _Done(Exception):
    """Raised once the last latent is drawn: the rest of the model need not run."""


class _StopAfter(Messenger):
    def __init__(self, last: str) -> None:
        super().__init__()
        self.last = last

    def _postprocess_message(self, msg: Any) -> None:
        if msg["name"] == self.last:
            raise _Done


def broadcast_draws(in_chains: Callable[..., Any], x: torch.Tensor, last: str
                    ) -> dict[str, Any] | None:
    """The sites of ``in_chains(x)`` up to the latent ``last``; ``None`` if that part fails."""
    with torch.no_grad(), poutine.trace() as tracer:
        try:
            _StopAfter(last)(in_chains)(x)
        except _Done:
            return dict(tracer.trace.nodes)
        except Exception:  # noqa: BLE001 - the model's latents do not broadcast either
            return None
    return None


def draws_in_sequence(fn: Callable[..., Any], x: torch.Tensor, names: list[str], chains: int
                      ) -> dict[str, dict[str, torch.Tensor]]:
    """Each latent's values from ``chains`` separate runs of ``fn(x)``, stacked."""
    runs: list[list[torch.Tensor]] = []
    with torch.no_grad():
        for _ in range(chains):
            nodes: dict[str, Any] = poutine.trace(fn).get_trace(x).nodes
            runs.append([nodes[name]["value"] for name in names])
    return {name: {"value": torch.stack([run[j] for run in runs])}
            for j, name in enumerate(names)}


def _one_chain(fn: Callable[..., Any], x: torch.Tensor, names: set[str]
               ) -> Callable[[dict[str, torch.Tensor]], tuple[torch.Tensor, torch.Tensor]]:
    def run(values: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        nodes: dict[str, Any] = poutine.trace(
            poutine.condition(fn, data=values)).get_trace(x).nodes
        given, rest = x.new_zeros(()), x.new_zeros(())
        for name, site in nodes.items():
            if site["type"] != "sample" or site_is_subsample(site):
                continue
            log_prob = site["fn"].log_prob(site["value"])
            if site["mask"] is not None:
                log_prob = log_prob.masked_fill(~site["mask"], 0.0)
            if not (isinstance(site["scale"], float) and site["scale"] == 1.0):
                log_prob = site["scale"] * log_prob
            if name in names:
                given = given + log_prob.sum()
            else:
                rest = rest + log_prob.sum()
        return given, rest
    return run


def per_chain_log_densities(fn: Callable[..., Any], x: torch.Tensor,
                            values: dict[str, torch.Tensor], *, mapped: bool
                            ) -> tuple[torch.Tensor, torch.Tensor]:
    """``fn`` run on each chain's ``values``: the log-density of those sites and of the rest.

    ``mapped`` runs every chain in one ``torch.func.vmap`` call; otherwise one after another.
    """
    run = _one_chain(fn, x, set(values))
    if mapped:
        given, rest = torch.func.vmap(run)(values)
        return given, rest
    chains = next(iter(values.values())).shape[0]
    parts = [run({name: value[c] for name, value in values.items()}) for c in range(chains)]
    return torch.stack([given for given, _ in parts]), torch.stack([rest for _, rest in parts])


def choose_mapping(fn: Callable[..., Any], x: torch.Tensor, values: dict[str, torch.Tensor],
                   why: str) -> bool:
    """Whether vmap runs ``fn`` on ``values`` and agrees with one chain run alone; say which.

    The check compares vmap's first chain with that chain run on its own, to rounding.
    """
    try:
        given, rest = per_chain_log_densities(fn, x, values, mapped=True)
        alone = per_chain_log_densities(fn, x, {name: value[:1] for name, value in values.items()},
                                        mapped=False)
        mapped = bool(torch.allclose(given[:1], alone[0]) and torch.allclose(rest[:1], alone[1]))
        reason = "" if mapped else " (vmap disagreed with a chain run alone)"
    except Exception as error:  # noqa: BLE001 - an operation vmap cannot batch
        mapped, reason = False, f" (torch.func.vmap cannot run it: {type(error).__name__})"
    how = ("its chains run the model one at a time, mapped by torch.func.vmap" if mapped
           else f"its chains run the model one after another{reason}, much slower")
    message = (f"the model does not broadcast over a plate of chains ({why}): {how}. Write its "
               "arithmetic to broadcast over leading batch dimensions (x * w summed, not x @ w) "
               "to run all chains in one call")
    said = _SAID.get()
    if said is None or message not in said:
        warnings.warn(message, UnbatchedModelWarning, stacklevel=2)
        if said is not None:
            said.add(message)
    return mapped
