r"""Bidirectional Monte Carlo (Grosse, Ghahramani & Adams, 2015): log p(x) in a sandwich.

On data simulated from the model, :math:`(z^\ast, x) \sim p(z)\,p(x \mid z)`, the code
:math:`z^\ast` is an exact sample of the posterior :math:`p(z \mid x)`. That gives two
estimates of :math:`\log p(x)` from opposite sides:

* forward AIS from the start density: :math:`\mathbb{E}[w] = p(x)`, so
  :math:`\log \frac1K\sum_k w_k` is a stochastic **lower** bound;
* reverse AIS from :math:`z^\ast`, the temperatures run from 1 to 0:
  :math:`\mathbb{E}[w'] = 1/p(x)`, so :math:`-\log \frac1K\sum_k w'_k` is a stochastic
  **upper** bound.

Both close on :math:`\log p(x)` as the number of temperatures grows; the width of the
sandwich bounds the error of either. The ELBO and IWAE-k on the same simulated data show
each estimator's bias in nats (Wu, Burda, Salakhutdinov & Grosse, 2017). The sandwich is
exact in expectation only on data the model simulates; on real data only the lower bound is
available.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any, NamedTuple

import torch
from pyro import poutine

from ..anneal import effective_sample_size, log_mean_exp
from ..pair import latent_of, true_objective, x_shape_of
from ..randomness import seeded
from ..results import summarised
from ..validation import check_bool, check_count
from .ais import AISEstimate, anneal_rows, check_settings
from .ais import sigmoid_schedule as schedule
from .importance import Estimate, checked_ks, iwae_ladder

__all__ = ["Sandwich", "Simulated", "bdmc", "simulate"]


@summarised()
class Simulated(NamedTuple):
    """Data drawn from the model with the codes that made it: ``x`` and exact ``z``."""

    x: torch.Tensor
    z: torch.Tensor


@summarised("width")
class Sandwich(NamedTuple):
    """log p(x) between two bounds on simulated data, beside the ELBO and IWAE-k.

    Attributes
    ----------
    data : Simulated
        The ``n`` simulated points and their exact codes.
    lower, upper : AISEstimate
        Forward AIS (a stochastic lower bound) and reverse AIS from the exact codes (a
        stochastic upper bound), nats per datapoint.
    elbo : Estimate
        The ELBO on the same data.
    iwae : tuple of Estimate
        IWAE-k on the same data for each ``k``.
    """

    data: Simulated
    lower: AISEstimate
    upper: AISEstimate
    elbo: Estimate
    iwae: tuple[Estimate, ...]

    @property
    def width(self) -> float:
        """Mean upper minus mean lower bound, nats per datapoint."""
        return self.upper.value - self.lower.value


def simulate(pair: Any, n: int) -> Simulated:
    """Draw ``n`` points from the pair's model: ``z ~ p(z)``, ``x ~ p(x | z)``.

    The pair must say the shape of one observation (``x_shape``), since its model takes the
    data to know how many rows to draw.
    """
    shape = x_shape_of(pair)
    if shape is None:
        raise ValueError(f"simulating data needs the shape of one observation: "
                         f"{type(pair).__name__} has no x_shape")
    n = check_count(n, "n", each=max(1, int(torch.Size(shape).numel())))
    anchor = next(iter(pair.parameters()), None) if hasattr(pair, "parameters") else None
    template = torch.zeros(n, *shape, dtype=anchor.dtype if anchor is not None else None,
                           device=anchor.device if anchor is not None else None)
    latent = latent_of(pair, template[:1])
    with torch.no_grad(), true_objective(pair):
        conditioned: dict[str, Any] = poutine.trace(pair.model).get_trace(template[:1]).nodes
        observed = [name for name, site in conditioned.items()
                    if site["type"] == "sample" and site["is_observed"]]
        if len(observed) != 1:
            raise ValueError(f"simulating data needs one observed site; found {observed}")
        nodes: dict[str, Any] = poutine.trace(poutine.uncondition(pair.model)).get_trace(
            template).nodes
    return Simulated(nodes[observed[0]]["value"].detach(), nodes[latent.name]["value"].detach())


def bdmc(pair: Any, n: int, *, steps: int = 1000, chains: int = 16, start: str = "guide",
         leapfrog: int = 10, target_acceptance: float = 0.65, ks: Sequence[int] = (1000,),
         seed: int | None = 0, batch_size: int = 100, progress: bool = True) -> Sandwich:
    """Sandwich log p(x) of ``n`` points simulated from the model by forward and reverse AIS.

    The ELBO and IWAE-k (for each of ``ks``) are computed on the same points. The settings
    are :func:`pvae.ais`'s; ``seed`` fixes the simulation and every chain (the caller's
    random stream is left as it was); ``None`` draws from the global generators.
    """
    progress = check_bool(progress, "progress")
    target = check_settings(steps, chains, leapfrog, batch_size, target_acceptance, start)
    ks = checked_ks(ks)
    betas = schedule(steps)
    common: dict[str, Any] = {"start": start, "chains": chains, "leapfrog": leapfrog,
                              "target": target, "batch_size": batch_size, "progress": progress}
    with seeded(seed):
        data = simulate(pair, n)
        forward, accepted, step_size, _ = anneal_rows(pair, data.x, betas,
                                                   label=f"BDMC forward-{steps}", **common)
        reverse, back_accepted, back_step, _ = anneal_rows(
            pair, data.x, betas.flip(0), codes=data.z, label=f"BDMC reverse-{steps}",
            **common)
        elbo, ladder = iwae_ladder(pair, data.x, ks, batch_size=batch_size)
    lower = replace(AISEstimate.of(f"ais-{steps}", log_mean_exp(forward), chains),
                    acceptance=accepted.cpu(), ess=effective_sample_size(forward).cpu(),
                    step_size=step_size.cpu())
    upper = replace(AISEstimate.of(f"reverse-ais-{steps}", -log_mean_exp(reverse), chains),
                    acceptance=back_accepted.cpu(), ess=effective_sample_size(reverse).cpu(),
                    step_size=back_step.cpu())
    return Sandwich(data, lower, upper, elbo, tuple(ladder))
