r"""Posterior draws as tensors, checked against a model's latent sites, and what they are worth.

:func:`posterior_draws` reads the ``DataTree`` :func:`pvae.mcmc` returns (group
``posterior``, dims ``chain, draw, ...``), that group alone, or a dict ``{site: draws}``
(one chain, in order), and refuses, in one line each, draws that miss or add a site, have
the wrong shape, are not finite, or lie outside a site's support. :func:`integrated_time`
says how many independent draws a chain's autocorrelated draws are worth, and
:func:`check_posterior` whether they were the posterior's at all.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

__all__ = ["check_posterior", "integrated_time", "posterior_draws"]

#: nats (probability at most exp(-SLACK)) and standard errors by which importance sampling
#: may exceed the log evidence (:func:`check_posterior`)
SLACK, Z_REFUSED = math.log(1e4), 5


def posterior_draws(draws: Any, sites: dict[str, Any], device: torch.device,
                    ignored: frozenset[str] = frozenset()) -> dict[str, torch.Tensor]:
    """Each site's draws as a ``(chains, draws, *site_shape)`` tensor, checked.

    ``sites`` are the model's latent sites (from a trace): their names, shapes, dtypes and
    supports; the draws take the sites' dtype and ``device``. Draws named in ``ignored``
    (the model's observed sites, ``pyro.deterministic`` ones among them, which Pyro's
    ``MCMC.get_samples`` returns) are left out; any other name that is not a latent site is
    refused.
    """
    children = getattr(draws, "children", None)
    if isinstance(children, Mapping) and "posterior" in children:  # an ArviZ 1.x DataTree
        draws = draws["posterior"]
    variables = getattr(draws, "data_vars", None)
    if isinstance(variables, Mapping) and variables:  # its posterior group, or a Dataset
        for name, variable in variables.items():
            if tuple(variable.dims[:2]) != ("chain", "draw"):
                raise ValueError(f"the posterior's {name!r} has dims {tuple(variable.dims)}, "
                                 "not ('chain', 'draw', ...): pass the DataTree pvae.mcmc "
                                 "returns")
        raw, lead = {str(name): variable.values for name, variable in variables.items()}, 2
    elif isinstance(children, Mapping):
        raise ValueError("draws has no 'posterior' group: pass the DataTree pvae.mcmc "
                         "returns, or a dict {site name: draws}")
    elif isinstance(draws, Mapping):
        raw, lead = dict(draws), 1
    else:
        raise TypeError("draws must be the DataTree pvae.mcmc returns or a dict {site name: "
                        f"draws}}; got {type(draws).__name__}")
    missing = [name for name in sites if name not in raw]
    if missing:
        raise ValueError(f"draws lack the latent site(s) {missing}: pass draws of every latent "
                         f"site of the model ({list(sites)})")
    extra = [str(name) for name in raw if name not in sites and name not in ignored]
    if extra:
        raise ValueError(f"draws hold {extra}, not latent sites of this model ({list(sites)}): "
                         "pass draws of this model's latents only")
    chained, count = {}, None
    for name, site in sites.items():
        value = _tensor(raw[name], name).to(device, site["value"].dtype)
        shape = tuple(site["value"].shape)
        if value.dim() < lead or tuple(value.shape[lead:]) != shape:
            wanted = ("(chain, draw" if lead == 2 else "(num_draws") + "".join(
                f", {size}" for size in shape) + ")"
            grouped = (" (MCMC.get_samples() without group_by_chain, or a DataTree)"
                       if lead == 1 and value.dim() == len(shape) + 2
                       and tuple(value.shape[2:]) == shape else "")
            raise ValueError(f"the draws of {name!r} have shape {tuple(value.shape)}, not "
                             f"{wanted}: one row per draw, each of the site's shape{grouped}")
        value = value if lead == 2 else value.unsqueeze(0)
        if 0 < value.shape[1] < value.shape[0]:
            raise ValueError(f"the draws of {name!r} are {value.shape[0]} chains of "
                             f"{value.shape[1]} draws: the dims look swapped; pass them as "
                             "(chain, draw, ...)")
        if count is not None and value.shape[:2] != count:
            raise ValueError(f"the draws of {name!r} number {tuple(value.shape[:2])} (chains, "
                             f"draws), the other sites' {tuple(count)}: pass as many of each")
        count = value.shape[:2]
        if not bool(torch.isfinite(value).all()):
            raise ValueError(f"the draws of {name!r} hold NaN or infinite values: drop those "
                             "draws")
        outside = int((~site["fn"].support.check(value)).sum())
        if outside:
            raise ValueError(f"{outside} values among the draws of {name!r} lie outside its "
                             f"support ({site['fn'].support}): pass draws of this model's "
                             "posterior")
        edge = _on_the_edge(site["fn"].support, value)
        if edge:
            rounded = ("" if value.dtype == torch.float64 else
                       f" (as the model's {str(value.dtype).removeprefix('torch.')} rounds them;"
                       " float64 data keeps them inside)")
            raise ValueError(f"{edge} values among the draws of {name!r} lie on the edge of its "
                             f"support ({site['fn'].support}){rounded}, where the posterior has "
                             "no density: pass draws strictly inside it")
        chained[name] = value
    return chained


def _on_the_edge(support: Any, value: torch.Tensor) -> int:
    """How many values equal a bound of an interval-like support (which ``check`` lets pass)."""
    edge = torch.zeros_like(value, dtype=torch.bool)
    for bound in ("lower_bound", "upper_bound"):
        limit = getattr(support, bound, None)
        if isinstance(limit, int | float | torch.Tensor):
            edge |= value == torch.as_tensor(limit, dtype=value.dtype, device=value.device)
    return int(edge.sum())


def _tensor(value: Any, name: str) -> torch.Tensor:
    """``value`` as a tensor of real numbers (a copy of an array: torch warns of read-only ones)."""
    try:
        if isinstance(value, torch.Tensor):
            tensor = value.detach()
        else:  # in native byte order, long doubles as float64: what torch reads
            array = np.asarray(value)
            wide = array.dtype.kind == "f" and array.dtype.itemsize > 8
            tensor = torch.as_tensor(array.astype(np.float64 if wide else
                                                  array.dtype.newbyteorder("=")))
    except (TypeError, ValueError, RuntimeError):
        tensor = None
    if tensor is None or tensor.is_complex() or tensor.dtype == torch.bool:
        raise ValueError(f"the draws of {name!r} are not an array of real numbers: pass a "
                         "tensor or array shaped (num_draws, *site_shape)")
    if not tensor.is_floating_point():
        raise ValueError(f"the draws of {name!r} are integers ({tensor.dtype}), not draws of a "
                         "continuous latent: pass them unrounded, as floats")
    return tensor


def integrated_time(series: torch.Tensor) -> torch.Tensor:
    r"""The integrated autocorrelation time :math:`\tau` of each column of ``(chains, draws, K)``.

    :math:`\tau = 1 + 2 \sum_{t \ge 1} \rho_t`, the effective sample size being
    :math:`CS/\tau`. The autocorrelations :math:`\rho_t = 1 - (W - \bar\gamma_t)/\hat V` pool
    the chains: :math:`\bar\gamma_t` is the chains' mean autocovariance at lag :math:`t`
    (by FFT), :math:`W` their mean variance and :math:`\hat V = \frac{S-1}{S} W + B`, with
    :math:`B` the variance of the chains' means, so chains that disagree lengthen
    :math:`\tau`. The sum is Geyer (1992)'s initial monotone sequence: the pairs
    :math:`\rho_{2k} + \rho_{2k+1}` up to the first that is not positive, made non-increasing.
    :math:`\tau` is at least :math:`1/\log_{10}(CS)`; a constant column has :math:`\tau = 1`.
    """
    chains, length = series.shape[:2]
    values = series.double()
    centred = values - values.mean(1, keepdim=True)
    size = 2 ** math.ceil(math.log2(2 * length))
    spectrum = torch.fft.rfft(centred, n=size, dim=1)
    autocovariance = torch.fft.irfft(spectrum.abs() ** 2, n=size, dim=1)[:, :length] / length
    within = (autocovariance[:, 0] * length / max(length - 1, 1)).mean(0)
    between = values.mean(1).var(0) if chains > 1 else torch.zeros_like(within)
    pooled = within * (length - 1) / length + between
    varies = pooled > 0
    rho = 1 - (within - autocovariance.mean(0)) / torch.where(varies, pooled, 1.0)
    rho[0] = 1.0
    pairs = rho[0:2 * (length // 2):2] + rho[1:2 * (length // 2):2]
    kept = torch.cumprod((pairs > 0).double(), 0)
    tau = -1 + 2 * (torch.cummin(pairs, 0).values * kept).sum(0)
    floor = 1 / math.log10(max(chains * length, 10))
    return torch.where(varies, tau.clamp(min=floor), 1.0)


def check_posterior(value: float, stderr: float, sums: tuple[float, float, int],
                    upper: float) -> None:
    r"""Refuse a bridge estimate that importance sampling from its proposal shows to be wrong.

    ``sums`` are the logsumexp of :math:`\log \ell_2` and of :math:`2 \log \ell_2` over the
    proposal's ``count`` draws (:math:`\ell = q/g`, as in :mod:`~.bridge`), ``upper`` minus the
    log mean of :math:`1/\ell_1` over the posterior draws.
    ``lower``, the log mean of :math:`\ell_2`, exceeds :math:`\log p(x)` by :data:`SLACK`
    nats with probability at most :math:`e^{-\text{SLACK}}` (Markov: its mean is
    :math:`p(x)` whatever the posterior draws), and by :data:`Z_REFUSED` of its standard errors
    hardly ever (a rare large :math:`\ell_2` lifts both); ``upper`` falls as far below it as
    rarely if the draws are the posterior's. Draws of the prior or given other data fail.
    """
    first, second, count = sums
    lower = first - math.log(count)
    spread = math.sqrt(max(math.expm1(second + math.log(count) - 2 * first), 0.0) / count)
    if min(upper + SLACK, value + 4 * stderr) + SLACK < lower or (
            lower - value > Z_REFUSED * math.hypot(stderr, spread)):
        raise ValueError(f"the posterior draws are not draws of this model's posterior given x: "
                         f"the bridge says log p(x) = {value:.4g} ± {stderr:.2g}, importance "
                         f"sampling from the proposal (which seldom overshoots) {lower:.4g} ± "
                         f"{spread:.2g}, the draws' reciprocal mean at most {upper:.4g}; pass "
                         "converged draws of this model given this x (not of its prior)")
