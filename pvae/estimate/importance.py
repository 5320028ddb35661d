r"""Likelihood estimates: the ELBO, importance-weighted bounds (IWAE-k) and exact values.

For a pair with guide :math:`q(z \mid x)` and log-weights
:math:`\log w_j = \log p(x, z_j) - \log q(z_j \mid x)`, :math:`z_j \sim q`:

.. math:: \mathrm{ELBO} = \mathbb{E}[\log w], \qquad
          \mathcal{L}_k = \mathbb{E}\Big[\log \frac1k \sum_{j=1}^k w_j\Big], \qquad
          \mathrm{ELBO} = \mathcal{L}_1 \le \mathcal{L}_k \le \mathcal{L}_{k+1}
          \le \log p(x).

Everything here is computed for the model as it stands: no minibatch scaling (each chunk of
data is its own plate) and no KL weight (it is set to 1 while estimating).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, Self

import pyro
import torch
from pyro import poutine

from ..pair import (
    EnumeratedSiteError,
    check_local_latents,
    check_observations,
    check_pair,
    data_check,
    exact_log_likelihood,
    in_particles,
    sample_sites,
    site_log_prob,
    unit_kl_weight,
)
from ..progress import progress_bar
from ..randomness import seeded
from ..results import summarised
from ..validation import as_data, check_bool, check_positive_int

__all__ = ["EnumeratedSiteError", "Estimate", "NonFiniteEstimateError", "Scores", "elbo", "exact",
           "iwae", "iwae_ladder", "refuse_non_finite", "score"]

#: How many floats one chunk of importance samples may hold (decoder outputs dominate).
CHUNK_ELEMENTS = 2**24
#: The most importance samples (k times the rows) one call draws: IWAE-5000 on the 10 000
#: MNIST test images is 5e7 and takes minutes; beyond 1e9 it would take hours.
MAX_SAMPLES = 10**9


class NonFiniteEstimateError(ValueError):
    """An estimate that came out NaN or infinite on some datapoints: never returned silently."""


def refuse_non_finite(name: str, values: torch.Tensor, cause: str = (
        "the pair's log-density is not finite at the codes drawn for them; check the model and "
        "guide on those rows")) -> None:
    """Raise :class:`NonFiniteEstimateError` naming the rows where ``values`` is not finite."""
    bad = ~torch.isfinite(values)
    if bool(bad.any()):
        rows = bad.nonzero().flatten().tolist()
        shown = ", ".join(str(row) for row in rows[:10]) + (", ..." if len(rows) > 10 else "")
        raise NonFiniteEstimateError(
            f"{name} is NaN or infinite on {len(rows)} of {values.numel()} datapoints (rows "
            f"{shown}): {cause}")


@summarised()
@dataclass(frozen=True)
class Estimate:
    """A log-likelihood estimate, in nats per datapoint.

    Attributes
    ----------
    name : str
        ``"exact"``, ``"elbo"`` or ``"iwae-k"``.
    value : float
        The mean over datapoints.
    stderr : float
        The standard error of that mean (spread over datapoints / sqrt(N)).
    per_datapoint : Tensor
        One value per datapoint, shape ``(N,)``.
    num_samples : int
        Importance samples (or ELBO particles) per datapoint; 0 for an exact value.
    """

    name: str
    value: float
    stderr: float
    per_datapoint: torch.Tensor
    num_samples: int
    unit: str = "nats per datapoint"

    @classmethod
    def of(cls, name: str, values: torch.Tensor, num_samples: int) -> Self:
        """Summarise per-datapoint values; a NaN or infinite one is an error naming its rows."""
        values = values.detach()
        refuse_non_finite(name, values)
        spread = float(values.std()) if values.numel() > 1 else 0.0
        return cls(name, float(values.mean()), spread / math.sqrt(values.numel()),
                   values.cpu(), num_samples)

    def bits_per_dim(self, dims: int) -> float:
        r"""The negative log-likelihood in bits per dimension, :math:`-v / (D \ln 2)`."""
        return -self.value / (check_positive_int(dims, "dims") * math.log(2))

    def __str__(self) -> str:
        return f"{self.name}: {self.value:.4f} ± {self.stderr:.4f} {self.unit}"


@summarised()
class Scores(NamedTuple):
    """Whatever applies to a model: its exact log-likelihood, its ELBO, its IWAE-k."""

    exact: Estimate | None
    elbo: Estimate | None
    iwae: tuple[Estimate, ...]


def prepare(pair: Any, x: Any) -> torch.Tensor:
    """Check ``x`` as the pair does and put it on the pair's device and dtype."""
    check_pair(pair)
    check = data_check(pair)
    tensor = check(x) if check is not None else as_data(x)
    if isinstance(pair, torch.nn.Module):
        anchor = next(iter(pair.parameters()), None)
        if anchor is not None:
            tensor = tensor.to(anchor)
    check_pair(pair, tensor)
    check_local_latents(pair, tensor)
    if check is None:  # a foreign pair: its model judges the data, every row
        check_observations(pair, tensor)
    return tensor


def _log_weights(pair: Any, x: torch.Tensor, k: int) -> torch.Tensor:
    r"""``(k, B)`` log-weights :math:`\log p(x, z) - \log q(z \mid x)`, ``z ~ q``."""
    guide_trace = poutine.trace(in_particles(pair.guide, x, k)).get_trace()
    model_trace = poutine.trace(
        poutine.replay(in_particles(pair.model, x, k), trace=guide_trace)).get_trace()
    shape = torch.Size((k, x.shape[0]))
    total = x.new_zeros(shape)
    for sign, trace in ((1.0, model_trace), (-1.0, guide_trace)):
        for _, site in sample_sites(trace):
            total = total + sign * site_log_prob(site, shape)
    return total


def checked_ks(ks: Sequence[int]) -> list[int]:
    """The distinct numbers of importance samples, sorted; each must be a positive integer."""
    if isinstance(ks, str) or not isinstance(ks, Sequence):
        raise ValueError(f"ks must be a sequence of positive integers, e.g. (1, 10, 100); "
                         f"got {ks!r}")
    if not ks:
        raise ValueError("ks is empty: give at least one number of importance samples, "
                         "e.g. ks=(1, 10, 100)")
    return sorted({check_positive_int(k, "k") for k in ks})


def iwae_ladder(pair: Any, x: Any, ks: Sequence[int], *, batch_size: int = 100,
                progress: bool = True, seed: int | None = None
                ) -> tuple[Estimate, list[Estimate]]:
    """The ELBO (from all ``max(ks)`` samples) and IWAE-k for every ``k``, in one pass.

    IWAE-k uses the first ``k`` of the same ``max(ks)`` importance samples per datapoint,
    so the whole ladder costs what the largest rung costs. Memory stays bounded: the data
    go in chunks of ``batch_size`` rows and the samples in chunks of at most
    :data:`CHUNK_ELEMENTS` floats. ``progress`` shows a bar on a terminal
    once the work has taken a few seconds, and a line every half minute elsewhere
    (:mod:`pvae.progress`). ``seed`` fixes
    every draw (the same seed, the same numbers to the bit) and leaves the caller's random
    state as it was; ``None`` draws from the global generators.
    """
    with seeded(seed):
        return _ladder(pair, x, ks, batch_size=batch_size, progress=progress)


def _ladder(pair: Any, x: Any, ks: Sequence[int], *, batch_size: int, progress: bool
            ) -> tuple[Estimate, list[Estimate]]:
    progress = check_bool(progress, "progress")
    ks = checked_ks(ks)
    tensor = prepare(pair, x)
    k_max = ks[-1]
    if k_max * tensor.shape[0] > MAX_SAMPLES:
        raise ValueError(f"k={k_max} on {tensor.shape[0]} rows is {k_max * tensor.shape[0]:.3g} "
                         f"importance samples, more than {MAX_SAMPLES:.0e}: hours of work. "
                         "Use a smaller k or fewer rows")
    batch_size = check_positive_int(batch_size, "batch_size")
    width = max(1, math.prod(tensor.shape[1:]))
    per_chunk = max(1, min(k_max, CHUNK_ELEMENTS // (batch_size * width)))
    elbo_parts: list[torch.Tensor] = []
    iwae_parts: dict[int, list[torch.Tensor]] = {k: [] for k in ks}
    chunks = math.ceil(tensor.shape[0] / batch_size) * math.ceil(k_max / per_chunk)
    # The data were checked once above; re-validating every distribution's arguments on
    # (k, B, D) tensors in every chunk costs about a fifth of the time.
    with torch.no_grad(), unit_kl_weight(pair), pyro.validation_enabled(False), progress_bar(
            chunks, f"IWAE-{k_max}", show=progress) as bar:
        for start in range(0, tensor.shape[0], batch_size):
            batch = tensor[start:start + batch_size]
            sums = batch.new_zeros(batch.shape[0])
            running = {k: batch.new_full((batch.shape[0],), -math.inf) for k in ks}
            for first in range(0, k_max, per_chunk):
                count = min(per_chunk, k_max - first)
                log_w = _log_weights(pair, batch, count)
                sums += log_w.sum(0)
                for k in ks:
                    if k > first:
                        used = log_w[: min(k, first + count) - first]
                        running[k] = torch.logaddexp(running[k], torch.logsumexp(used, 0))
                bar.update()
            elbo_parts.append(sums / k_max)
            for k in ks:
                iwae_parts[k].append(running[k] - math.log(k))
    elbo_estimate = Estimate.of("elbo", torch.cat(elbo_parts), k_max)
    return elbo_estimate, [Estimate.of(f"iwae-{k}", torch.cat(iwae_parts[k]), k) for k in ks]


def elbo(pair: Any, x: Any, num_particles: int = 1, *, seed: int | None = None,
         **options: Any) -> Estimate:
    r"""The ELBO per datapoint, :math:`\frac1S\sum_s \log w_s`, from ``num_particles`` samples.

    ``seed`` and the other options are :func:`iwae_ladder`'s.
    """
    estimate, _ = iwae_ladder(pair, x, [check_positive_int(num_particles, "num_particles")],
                              seed=seed, **options)
    return estimate


def iwae(pair: Any, x: Any, k: int, *, seed: int | None = None, **options: Any) -> Estimate:
    r"""The importance-weighted bound :math:`\log \frac1k \sum_{j} w_j` per datapoint.

    ``seed`` and the other options are :func:`iwae_ladder`'s.
    """
    _, (estimate,) = iwae_ladder(pair, x, [check_positive_int(k, "k")], seed=seed, **options)
    return estimate


def exact(pair: Any, x: Any) -> Estimate:
    """The exact log-likelihood of a model that has one (``log_likelihood``)."""
    log_likelihood = exact_log_likelihood(pair)
    if log_likelihood is None:
        raise ValueError(f"{type(pair).__name__} has no exact log-likelihood; bound it with "
                         "elbo() or estimate it with iwae()")
    return Estimate.of("exact", log_likelihood(x), 0)


def score(pair: Any, x: Any, ks: Sequence[int] = (1, 10, 100), *, seed: int | None = None,
          **options: Any) -> Scores:
    """Every estimate that applies to ``pair`` on ``x``: exact, ELBO, IWAE-k.

    ``ks`` is checked whatever the model (a bad ``k`` is an error even where only the exact
    value applies); ``seed`` and the other options are :func:`iwae_ladder`'s.
    """
    ks = checked_ks(ks)
    has_exact = exact_log_likelihood(pair) is not None
    exact_estimate = exact(pair, x) if has_exact else None
    try:
        elbo_estimate, ladder = iwae_ladder(pair, x, ks, seed=seed, **options)
    except EnumeratedSiteError:
        if exact_estimate is None:
            raise
        return Scores(exact_estimate, None, ())  # enumerated models: exact only
    return Scores(exact_estimate, elbo_estimate, tuple(ladder))
