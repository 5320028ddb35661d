"""Engines: where a checked fit runs, chosen by name, spec or object.

:func:`pvae.fit` checks its arguments once into a :class:`~pvae.train.plan.FitPlan` and hands
it to an engine from :data:`engines` (``"pvae"``, ``"lightning"``,
``{"name": "lightning", "devices": 4, "strategy": "ddp"}``) or to an :class:`Engine` object.

* ``"pvae"``: pvae's own loop on one device, :mod:`.local`.
* ``"lightning"``: PyTorch Lightning (several GPUs or machines), :mod:`.lightning`; it imports
  Lightning only when asked for, so pvae works without it
  (``pip install 'pvae-pyro[lightning]'``).
"""

from __future__ import annotations

from .local import Engine, LocalEngine, engines

__all__ = ["Engine", "LocalEngine", "engines", "lightning_engine"]


@engines.register("lightning")
def lightning_engine(devices: int | str = 1, num_nodes: int = 1, strategy: str = "auto",
                     precision: str | None = None) -> Engine:
    """The Lightning engine with its ``Trainer`` settings (see :class:`.LightningEngine`)."""
    from .lightning import LightningEngine  # the optional dependency, only when asked for

    return LightningEngine(devices=devices, num_nodes=num_nodes, strategy=strategy,
                           precision=precision)
