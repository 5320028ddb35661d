r"""Where the gap comes from: approximation against amortisation (Cremer, Li & Duvenaud, 2018).

For one datapoint, with :math:`q^\ast` the member of the guide's family closest to the
posterior (the best ELBO for that datapoint alone),

.. math:: \log p(x) - \mathrm{ELBO}(q_\phi)
          = \underbrace{\log p(x) - \mathrm{ELBO}(q^\ast)}_{\text{approximation gap}}
          + \underbrace{\mathrm{ELBO}(q^\ast) - \mathrm{ELBO}(q_\phi)}_{\text{amortisation gap}}.

The approximation gap is :math:`\mathrm{KL}(q^\ast \,\|\, p(z \mid x))`: what the family
cannot express. The amortisation gap is what the encoder loses by predicting
:math:`q_\phi(z \mid x)` for every :math:`x` at once instead of fitting each. pvae finds
:math:`q^\ast` by SVI on local parameters — the location and scale of the guide's Normal,
one pair per datapoint, started from the encoder's output, all datapoints in one batch. For
a flow guide the flows stay as the encoder conditions them and only their base Normal is
freed, so its approximation gap is an upper bound.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import pyro
import pyro.distributions as dist
import torch
from pyro import poutine

from ..pair import Latent, exact_log_likelihood, latent_of, log_joint, unit_kl_weight
from ..progress import progress_bar
from ..randomness import seeded
from ..results import summarised
from ..validation import check_bool, check_positive_int, check_positive_number
from .ais import ais
from .importance import Estimate, prepare, refuse_non_finite

__all__ = ["Gaps", "gaps", "guide_family", "local_elbo"]

#: particles in each optimisation step and in the final estimate of each ELBO
TRAIN_PARTICLES, EVALUATION_PARTICLES = 8, 500


@summarised()
class Gaps(NamedTuple):
    """The two gaps between the ELBO and log p(x), nats per datapoint.

    Attributes
    ----------
    log_likelihood : Estimate
        The best estimate available (its name says which: ``exact``, ``ais-T``, ``iwae-k``).
    elbo : Estimate
        The amortised guide's ELBO.
    local_elbo : Estimate
        The ELBO of the guide's family fitted to each datapoint alone.
    approximation, amortization : Estimate
        ``log_likelihood - local_elbo`` and ``local_elbo - elbo``, per datapoint.
    fallback : Tensor
        Datapoints whose local optimisation diverged; they keep the amortised q.
    """

    log_likelihood: Estimate
    elbo: Estimate
    local_elbo: Estimate
    approximation: Estimate
    amortization: Estimate
    fallback: torch.Tensor


class _Family(NamedTuple):
    """The guide's q(z | x) as a free Normal (loc, scale) and the transforms on top of it."""

    loc: torch.Tensor
    scale: torch.Tensor
    transforms: list[Any]


def guide_family(pair: Any, x: torch.Tensor, latent: Latent) -> _Family:
    """Read the amortised q(z | x) off the guide's trace as a Normal family, or say why not."""
    with torch.no_grad():
        trace = poutine.trace(pair.guide).get_trace(x)
    nodes: dict[str, Any] = trace.nodes
    fn = nodes[latent.name]["fn"]
    transforms: list[Any] = []
    if isinstance(fn, dist.TransformedDistribution):
        transforms, fn = list(fn.transforms), fn.base_dist
    while isinstance(fn, dist.Independent | torch.distributions.Independent):
        fn = fn.base_dist
    if type(fn).__name__ == "Delta":
        raise ValueError("the guide is a point mass (a Delta): it has no ELBO and no family to "
                         "fit; the gap decomposition needs a Normal or flow guide")
    if not isinstance(fn, torch.distributions.Normal):
        raise ValueError(f"the gap decomposition fits a guide whose q(z | x) is a Normal (or "
                         f"flows on one); this guide gives {type(fn).__name__}")
    shape = (x.shape[0], *latent.event_shape)
    return _Family(fn.loc.detach().expand(shape).clone(),
                   fn.scale.detach().expand(shape).clone(), transforms)


def _q(loc: torch.Tensor, scale: torch.Tensor, transforms: list[Any]) -> Any:
    base = dist.Normal(loc, scale).to_event(loc.dim() - 1)
    return dist.TransformedDistribution(base, transforms) if transforms else base


def _elbos(pair: Any, x: torch.Tensor, latent: Latent, loc: torch.Tensor,
           scale: torch.Tensor, transforms: list[Any], particles: int) -> torch.Tensor:
    r"""``(k, B)`` single-sample ELBOs :math:`\log p(x, z) - \log q(z)`, ``z ~ q`` (reparam)."""
    q = _q(loc, scale, transforms)
    z = q.rsample((particles,))
    joint, _ = log_joint(pair, x, latent, z)
    return joint - q.log_prob(z)


def local_elbo(pair: Any, x: torch.Tensor, latent: Latent, family: _Family, *, steps: int,
               lr: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Fit the family to each row alone; return its loc, scale and the rows that diverged."""
    loc = family.loc.clone().requires_grad_(True)
    raw_scale = family.scale.log().clone().requires_grad_(True)
    optimizer = torch.optim.Adam([loc, raw_scale], lr=lr)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: 0.1 ** (step / max(steps - 1, 1)))
    diverged = torch.zeros(x.shape[0], dtype=torch.bool, device=x.device)
    for _ in range(steps):
        optimizer.zero_grad(set_to_none=True)
        values = _elbos(pair, x, latent, loc, raw_scale.exp(), family.transforms,
                        TRAIN_PARTICLES).mean(0)
        bad = ~torch.isfinite(values)
        diverged |= bad
        (-values.masked_fill(bad, 0.0).sum()).backward()
        for parameter in (loc, raw_scale):
            assert parameter.grad is not None
            rows = parameter.grad.reshape(x.shape[0], -1)
            rows[diverged | ~torch.isfinite(rows).all(-1)] = 0.0
        optimizer.step()
        schedule.step()
        with torch.no_grad():
            broken = ~torch.isfinite(torch.cat([loc.reshape(len(x), -1),
                                                raw_scale.reshape(len(x), -1)], 1)).all(-1)
            diverged |= broken
    with torch.no_grad():  # a diverged row keeps the encoder's q
        loc[diverged] = family.loc[diverged]
        raw_scale[diverged] = family.scale.log()[diverged]
    return loc.detach(), raw_scale.detach().exp(), diverged


def _of(name: str, values: torch.Tensor, num_samples: int) -> Estimate:
    return Estimate.of(name, values, num_samples)


def gaps(pair: Any, x: Any, *, steps: int = 500, lr: float = 0.05,
         log_likelihood: Estimate | None = None, ais_steps: int = 500, batch_size: int = 100,
         progress: bool = True, seed: int | None = None) -> Gaps:
    """Split ``log p(x) - ELBO`` into the approximation and the amortisation gap.

    Parameters
    ----------
    pair : object
        A model/guide pair whose guide is a Normal (or flows on a Normal) over one
        continuous latent site per datapoint.
    x : array-like
        The data.
    steps, lr : int, float
        Adam steps (the rate decays to a tenth) fitting each datapoint's own q.
    log_likelihood : Estimate, optional
        log p(x) per datapoint when already at hand; else the exact value when the model
        has one, else AIS with ``ais_steps`` temperatures.
    batch_size : int
        Rows fitted at once.
    progress : bool
        Show progress: a bar on a terminal after a few seconds, a line every half minute
        elsewhere (:mod:`pvae.progress`).
    seed : int, optional
        Fixes every draw (the same seed, the same numbers); the caller's random state is left
        as it was. ``None``: the global generators.
    """
    progress = check_bool(progress, "progress")
    steps = check_positive_int(steps, "steps")
    lr = check_positive_number(lr, "lr")
    ais_steps = check_positive_int(ais_steps, "ais_steps")
    batch_size = check_positive_int(batch_size, "batch_size")
    tensor = prepare(pair, x)
    with seeded(seed):
        if log_likelihood is not None and not isinstance(log_likelihood, Estimate):
            raise ValueError("log_likelihood must be an Estimate (from pvae.exact, pvae.ais or "
                             f"pvae.iwae); got {type(log_likelihood).__name__}")
        if log_likelihood is not None and len(log_likelihood.per_datapoint) != len(tensor):
            raise ValueError(f"log_likelihood has {len(log_likelihood.per_datapoint)} values for "
                             f"{len(tensor)} datapoints")
        if log_likelihood is not None:
            refuse_non_finite("the log_likelihood given", log_likelihood.per_datapoint,
                              "give an estimate of finite values (pvae.exact, pvae.ais)")
        chunks = range(0, len(tensor), batch_size)
        with unit_kl_weight(pair), pyro.validation_enabled(False), progress_bar(
                len(chunks), "local ELBOs", show=progress) as bar:
            latent = latent_of(pair, tensor[:1])
            guide_family(pair, tensor[:1], latent)  # a Delta or another family fails here
            amortized, local, fallback = [], [], []
            for first in chunks:
                bar.update()
                rows = tensor[first:first + batch_size]
                family = guide_family(pair, rows, latent)
                loc, scale, diverged = local_elbo(pair, rows, latent, family, steps=steps, lr=lr)
                with torch.no_grad():
                    amortized.append(_elbos(pair, rows, latent, family.loc, family.scale,
                                            family.transforms, EVALUATION_PARTICLES).mean(0))
                    fitted = _elbos(pair, rows, latent, loc, scale, family.transforms,
                                    EVALUATION_PARTICLES).mean(0)
                local.append(torch.where(diverged, amortized[-1], fitted))
                fallback.append(diverged.nonzero().flatten() + first)
        if log_likelihood is None:
            has_exact = exact_log_likelihood(pair) is not None
            log_likelihood = (_of("exact", pair.log_likelihood(tensor), 0) if has_exact
                              else ais(pair, tensor, steps=ais_steps, batch_size=batch_size,
                                       progress=progress))
        best = log_likelihood.per_datapoint.to(tensor)
        elbo_values, local_values = torch.cat(amortized), torch.cat(local)
        return Gaps(log_likelihood=log_likelihood,
                    elbo=_of("elbo", elbo_values, EVALUATION_PARTICLES),
                    local_elbo=_of("local elbo", local_values, EVALUATION_PARTICLES),
                    approximation=_of("approximation gap", best - local_values, 0),
                    amortization=_of("amortization gap", local_values - elbo_values, 0),
                    fallback=torch.cat(fallback).cpu())

