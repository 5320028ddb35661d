r"""A pair's optional hooks: one typed ``Protocol`` each, and the one accessor that reads it.

Beyond ``model`` and ``guide``, a pair may offer any of these; pvae looks each up here and
nowhere else, and a hook that is present but not callable counts as absent.

========================  =================================================================
hook                      what pvae does with it
========================  =================================================================
``objective()``           the ELBO it trains (``CheckedTrace_ELBO`` when absent)
``check_data(x)``         validates data before any work (shapes, support) and returns it
``initialize(x, gen)``    a fresh start for each restart of ``fit`` (``n_init``)
``m_step(x, resp)``       the closed-form M-step of EM (``method="em"``)
``closed_form_log_joint`` ``(x)``: the ``(K, N)`` table :math:`\log p(x_n, c_n = k)` without
                          Pyro's enumeration (EM's fast E-step, checked against it once)
``log_likelihood(x)``     the exact :math:`\log p(x_i)` per row (``pvae.exact``)
``kl_weight``, ``beta``   the KL weight a warm-up ramps towards ``beta``
``x_shape``               the shape of one observation (simulating data for BDMC)
``closed_form_elbo``      on the *model*, ``(guide, compiled)``: its ELBO with that guide
                          in closed form, or why not (the default objective's fast path)
========================  =================================================================
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

import torch

__all__ = ["DataCheck", "ExactLikelihood", "HasObjective", "HasXShape", "Initialize",
           "KLWeighted", "MStep", "closed_form_elbo_of", "closed_form_log_joint_of",
           "data_check", "exact_log_likelihood", "initializer", "kl_weight_of", "kl_weighted",
           "m_step_of", "objective_hook", "x_shape_of"]


class HasObjective(Protocol):
    """A pair that names its training objective."""

    def objective(self) -> Any:  # noqa: D102 (a pyro.infer.ELBO)
        ...


class DataCheck(Protocol):
    """A pair that validates its data (and returns it as a tensor)."""

    def check_data(self, x: Any) -> torch.Tensor:  # noqa: D102
        ...


class Initialize(Protocol):
    """A pair with a data-dependent start, drawn from ``generator``."""

    def initialize(self, x: torch.Tensor, generator: torch.Generator) -> Any:  # noqa: D102
        ...


class MStep(Protocol):
    """A pair with a closed-form M-step."""

    def m_step(self, x: torch.Tensor, responsibilities: torch.Tensor) -> Any:  # noqa: D102
        ...


class ExactLikelihood(Protocol):
    """A pair whose log-likelihood is exact."""

    def log_likelihood(self, x: Any) -> torch.Tensor:  # noqa: D102
        ...


@runtime_checkable
class KLWeighted(Protocol):
    """A pair whose KL term a warm-up can weight."""

    kl_weight: float
    beta: float


class HasXShape(Protocol):
    """A pair that knows the shape of one observation."""

    x_shape: tuple[int, ...]


def _method(pair: Any, name: str) -> Callable[..., Any] | None:
    fn = getattr(pair, name, None)
    return fn if callable(fn) else None


def objective_hook(pair: Any) -> Callable[[], Any] | None:
    """The pair's ``objective`` (:class:`HasObjective`), or None."""
    return _method(pair, "objective")


def closed_form_elbo_of(model: Any) -> Callable[[Any, bool], tuple[Any, str]] | None:
    """The model's ``closed_form_elbo(guide, compiled)``: (a closed-form ELBO or None, why)."""
    return _method(model, "closed_form_elbo")


def data_check(pair: Any) -> Callable[[Any], torch.Tensor] | None:
    """The pair's ``check_data`` (:class:`DataCheck`), or None."""
    return _method(pair, "check_data")


def initializer(pair: Any) -> Callable[[torch.Tensor, torch.Generator], Any] | None:
    """The pair's ``initialize`` (:class:`Initialize`), or None."""
    return _method(pair, "initialize")


def m_step_of(pair: Any) -> Callable[[torch.Tensor, torch.Tensor], Any] | None:
    """The pair's ``m_step`` (:class:`MStep`), or None."""
    return _method(pair, "m_step")


def closed_form_log_joint_of(pair: Any) -> Callable[[torch.Tensor], torch.Tensor] | None:
    """The pair's ``closed_form_log_joint(x)``: EM's E-step table outside Pyro, or None."""
    return _method(pair, "closed_form_log_joint")


def exact_log_likelihood(pair: Any) -> Callable[[Any], torch.Tensor] | None:
    """The pair's exact ``log_likelihood`` (:class:`ExactLikelihood`), or None."""
    return _method(pair, "log_likelihood")


def kl_weight_of(pair: Any) -> float | None:
    """The pair's current ``kl_weight``, or None for a pair without one."""
    return getattr(pair, "kl_weight", None)


def kl_weighted(pair: Any) -> bool:
    """Whether a warm-up can ramp the pair's KL weight (:class:`KLWeighted`)."""
    return kl_weight_of(pair) is not None and hasattr(pair, "beta")


def x_shape_of(pair: Any) -> tuple[int, ...] | None:
    """The shape of one observation (:class:`HasXShape`), or None."""
    return getattr(pair, "x_shape", None)
