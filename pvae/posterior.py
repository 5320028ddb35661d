"""A Pyro model's posterior by NUTS, returned as an ArviZ 1.x ``DataTree``.

ArviZ 1.x has no Pyro converter; :func:`mcmc` (``pvae.mcmc``) is pvae's. It runs the chains
one after the other (each with its own seed: no subprocesses), then replays every posterior
draw through the model with ``poutine.condition`` + ``poutine.trace`` to read the pointwise
log-likelihood of each observed site, which is what ``az.loo`` and ``az.compare`` need.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import arviz as az
import numpy as np
import pyro
import torch
from pyro import poutine
from pyro.infer import MCMC, NUTS

from .pair import data_check
from .validation import check_bool, check_nonnegative_int, check_positive_int, check_seed

__all__ = ["MAX_DRAWS", "mcmc", "pointwise_log_likelihood"]

#: the most NUTS steps (draws and warm-up, over all chains) one call takes
MAX_DRAWS = 10**6


def _model_of(model: Any) -> Callable[..., Any]:
    fn = getattr(model, "model", model)
    if not callable(fn):
        raise TypeError(f"mcmc needs a Pyro model (a callable or an object with .model); "
                        f"got {type(model).__name__}")
    return fn


def _is_delta(fn: Any) -> bool:
    """Whether a site's distribution is a point mass (``pyro.deterministic`` records one)."""
    while hasattr(fn, "base_dist"):  # masked, independent, ...
        fn = fn.base_dist
    return isinstance(fn, pyro.distributions.Delta)


def pointwise_log_likelihood(
    model: Callable[..., Any], draws: dict[str, torch.Tensor], *args: Any, **kwargs: Any
) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """Replay each draw through ``model`` and read its observed sites' log-densities.

    Parameters
    ----------
    model : callable
        The Pyro model.
    draws : dict of str to Tensor
        Posterior draws, each of shape ``(S, *site_shape)``.
    *args, **kwargs
        The model's arguments, holding the observed data.

    Returns
    -------
    log_lik : dict of str to Tensor
        For every observed site, ``(S, N)``: the log-density of each observation under
        each draw (event dimensions summed, plates kept).
    observed : dict of str to Tensor
        The observed values of those sites. A ``pyro.deterministic`` site (an observed
        point mass) is neither: it has no likelihood to read.
    """
    rows: dict[str, list[torch.Tensor]] = {}
    observed: dict[str, torch.Tensor] = {}
    num_draws = next(iter(draws.values())).shape[0] if draws else 1
    with torch.no_grad():
        for s in range(num_draws):
            values = {name: value[s] for name, value in draws.items()}
            replayed = poutine.trace(poutine.condition(model, data=values))
            nodes: dict[str, Any] = replayed.get_trace(*args, **kwargs).nodes
            for name, site in nodes.items():
                if site["type"] == "sample" and site["is_observed"] and name not in values \
                        and not _is_delta(site["fn"]):  # pyro.deterministic: no likelihood
                    rows.setdefault(name, []).append(site["fn"].log_prob(site["value"]))
                    observed[name] = site["value"]
    if not rows:
        raise ValueError("the model has no observed sites: there is no likelihood to read")
    return {name: torch.stack(value) for name, value in rows.items()}, observed


def mcmc(
    model: Any,
    *args: Any,
    num_samples: int = 500,
    warmup: int = 500,
    chains: int = 2,
    seed: int = 0,
    progress: bool = False,
    **kwargs: Any,
) -> Any:
    """Run NUTS on ``model(*args, **kwargs)`` and return an ArviZ ``DataTree``.

    Parameters
    ----------
    model : callable or pair
        A Pyro model, or an object whose ``.model`` is one, with at least one observed site.
    *args, **kwargs
        The model's arguments (usually the data).
    num_samples, warmup, chains : int
        Kept draws per chain, warm-up (adaptation) steps per chain, and chains.
    seed : int
        Chain ``c`` runs with seed ``seed + c``.
    progress : bool
        Pyro's per-chain progress bar.

    Returns
    -------
    xarray.DataTree
        Groups ``posterior`` (every latent site, dims ``chain, draw, ...``),
        ``log_likelihood`` (pointwise, one variable per observed site) and
        ``observed_data``; ready for ``az.summary``, ``az.loo`` and ``az.compare``.
    """
    fn = _model_of(model)
    progress = check_bool(progress, "progress")
    num_samples = check_positive_int(num_samples, "num_samples")
    chains = check_positive_int(chains, "chains")
    warmup = check_nonnegative_int(warmup, "warmup")
    if (num_samples + warmup) * chains > MAX_DRAWS:
        raise ValueError(f"{chains} chains of {num_samples + warmup} NUTS steps are more than "
                         f"{MAX_DRAWS} steps: hours of sampling. Ask for fewer")
    if check_seed(seed) is None or check_seed(seed + chains - 1) is None:
        raise ValueError("seed must be an integer (chain c runs with seed + c)")
    check = data_check(model)
    if check is not None and args:  # the data, checked as the model's own fit would
        args = (check(args[0]), *args[1:])
    per_chain: list[dict[str, torch.Tensor]] = []
    for chain in range(chains):
        pyro.set_rng_seed(seed + chain)
        sampler = MCMC(NUTS(fn), num_samples=num_samples, warmup_steps=warmup,
                       num_chains=1, disable_progbar=not progress)
        try:
            sampler.run(*args, **kwargs)
        except (ValueError, RuntimeError) as error:
            reason = str(error).splitlines()[0] if str(error) else type(error).__name__
            raise ValueError(
                f"NUTS could not sample this model ({reason}). Where no starting point has a "
                "finite density the data usually lie far outside the priors' range: rescale "
                "the data or widen the priors") from None
        per_chain.append({k: v.detach() for k, v in sampler.get_samples().items()})
    names = list(per_chain[0])
    posterior = {k: torch.stack([c[k] for c in per_chain]) for k in names}
    flat = {k: v.reshape(chains * num_samples, *v.shape[2:]) for k, v in posterior.items()}
    log_lik, observed = pointwise_log_likelihood(fn, flat, *args, **kwargs)

    def numpy(t: torch.Tensor) -> np.ndarray:
        return t.detach().cpu().numpy()

    dims = {name: [f"{name}_obs", *(f"{name}_event_{i}" for i in range(value.dim() - 1))]
            for name, value in observed.items()}
    return az.from_dict(
        {
            "posterior": {k: numpy(v) for k, v in posterior.items()},
            "log_likelihood": {k: numpy(v.reshape(chains, num_samples, *v.shape[1:]))
                               for k, v in log_lik.items()},
            "observed_data": {k: numpy(v) for k, v in observed.items()},
        },
        dims=dims,
    )
