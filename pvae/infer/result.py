"""What a fit returns."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["FitResult"]


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
        For EM, whether the change fell below ``tol`` before ``max_iter``; ``None`` for SVI,
        which runs a fixed number of steps.
    restart_losses : list of float
        The final loss of every restart (``n_init`` of them); the best one is kept.
    validation_losses : list of float
        The true objective on the validation data after each epoch, nats per datapoint.
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
    validation_losses: list[float] = field(default_factory=list)

    @property
    def final_loss(self) -> float:
        """The last entry of :attr:`losses`."""
        return self.losses[-1]

    @property
    def steps(self) -> int:
        """How many steps or iterations the kept run took."""
        return len(self.losses)
