"""What a fit returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..results import summarised

__all__ = ["FitResult", "History"]


HISTORY_FIELDS = ("epoch", "loss", "validation", "reconstruction", "kl")


@summarised()
@dataclass
class History:
    """Per-epoch curves of an SVI run, in nats per datapoint.

    Attributes
    ----------
    epoch : list of int
        The epochs completed (1, 2, ...).
    loss : list of float
        The mean training objective over each epoch (minus the ELBO, weighted during a KL
        warm-up).
    validation : list of float
        The true objective on the validation rows after each epoch (empty without them).
    reconstruction, kl : list of float
        The ELBO's two terms on the rows given as ``fit(terms_on=...)`` after each epoch
        (empty without them): ELBO = reconstruction - KL.
    """

    epoch: list[int] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    validation: list[float] = field(default_factory=list)
    reconstruction: list[float] = field(default_factory=list)
    kl: list[float] = field(default_factory=list)

    def to_dict(self) -> dict[str, list[float]]:
        """Plain lists by name (for JSON and checkpoints)."""
        return {name: list(getattr(self, name)) for name in HISTORY_FIELDS}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> History:
        """The inverse of :meth:`to_dict`; missing curves are empty."""
        unknown = set(data) - set(HISTORY_FIELDS)
        if unknown:
            raise ValueError(f"a history has no curve(s) {sorted(unknown)}; its curves are "
                             f"{', '.join(HISTORY_FIELDS)}")
        return cls(**{name: list(data.get(name, [])) for name in HISTORY_FIELDS})

    def copy(self) -> History:
        """An independent copy."""
        return History.from_dict(self.to_dict())


@summarised("final_loss")
@dataclass(frozen=True)
class FitResult:
    """The outcome of :func:`pvae.fit`.

    Attributes
    ----------
    losses : list of float
        The objective after each step (SVI) or iteration (EM) of the kept run, in nats per
        datapoint: the negative ELBO divided by N, which for a model without latent
        variables (or with them summed out) is the negative mean log-likelihood.
    method : str
        ``"svi"`` or ``"em"``.
    num_data : int
        N, the number of observations fitted.
    converged : bool or None
        For EM, whether the change fell below ``tol`` before ``max_iter``; for SVI, whether
        the loss had settled (the rule of :mod:`pvae.train.convergence`) or the run stopped
        early because the validation objective had (``fit(patience=...)``).
    restart_losses : list of float
        The final loss of every restart (``n_init`` of them); the best one is kept.
    history : History
        Per-epoch curves (training and validation objective, the ELBO's terms).
    stopped_early : bool
        Whether SVI stopped because the validation objective stopped improving
        (``fit(patience=...)``).
    seconds : float
        Wall time of the whole fit.
    device : str
        Where it ran.
    """

    losses: list[float]
    method: str
    num_data: int
    converged: bool | None
    seconds: float
    device: str
    restart_losses: list[float] = field(default_factory=list)
    history: History = field(default_factory=History)
    stopped_early: bool = False

    @property
    def validation_losses(self) -> list[float]:
        """The true objective on the validation data after each epoch (``history.validation``)."""
        return self.history.validation

    @property
    def final_loss(self) -> float:
        """The last entry of :attr:`losses`."""
        return self.losses[-1]

    @property
    def steps(self) -> int:
        """How many steps or iterations the kept run took."""
        return len(self.losses)
