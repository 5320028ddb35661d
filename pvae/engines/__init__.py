"""Engines above inference: they run :func:`pvae.fit`'s plan somewhere else.

Importing :mod:`pvae` registers them in :data:`pvae.train.engine.engines`; each imports its
own dependencies only when it is asked for, so pvae works without them.

* ``"lightning"``: PyTorch Lightning (several GPUs or machines), :mod:`.lightning`; needs
  ``pip install 'pvae-pyro[lightning]'``.
"""

from __future__ import annotations

from ..train import Engine, engines

__all__ = ["lightning_engine"]


@engines.register("lightning")
def lightning_engine(devices: int | str = 1, num_nodes: int = 1, strategy: str = "auto",
              precision: str | None = None) -> Engine:
    """The Lightning engine with its ``Trainer`` settings (see :class:`.LightningEngine`)."""
    from .lightning import LightningEngine  # the optional dependency, only when asked for

    return LightningEngine(devices=devices, num_nodes=num_nodes, strategy=strategy,
                           precision=precision)
