"""Progress of long work, on a terminal and off one: the one mechanism every loop uses.

On a terminal, :func:`progress_bar` is a ``tqdm`` bar. Anywhere else (a log file, a CI job,
``nohup``, a pipe) a redrawn bar would be noise or nothing, so it writes plain lines to
standard error instead: one per epoch for a fit (``every`` updates), or one every
:data:`LINE_SECONDS` for an estimate. ``show=False`` is silence everywhere.

An estimate's bar waits :data:`BAR_DELAY` seconds before it appears, so that the many quick
calls of a script print nothing and only the slow ones (``score(ks=(10**7,))``) show progress.
"""

from __future__ import annotations

import sys
import time
from typing import Any, Self

from tqdm.auto import tqdm

__all__ = ["BAR_DELAY", "EPOCH_LINE_SECONDS", "LINE_SECONDS", "LineProgress", "progress_bar"]

#: Seconds an estimate's terminal bar waits before it shows (a quick call shows nothing).
BAR_DELAY = 2.0
#: Seconds between two lines of an estimate's progress off a terminal.
LINE_SECONDS = 30.0
#: Off a terminal a fit writes a line per epoch, but not two within this many seconds
#: (the first and the last epoch always write one): a thousand 5 ms epochs are not a log.
EPOCH_LINE_SECONDS = 1.0


class LineProgress:
    """A stand-in for a ``tqdm`` bar that writes whole lines to standard error.

    Parameters
    ----------
    total : int
        How many updates make the whole work.
    desc : str
        What is being done, the start of every line.
    every : int, optional
        Write a line each time this many updates complete (an epoch of a fit, in steps),
        calling them epochs; at most one per :data:`EPOCH_LINE_SECONDS`, the first and last
        always. ``None``: a line every :data:`LINE_SECONDS`, with the fraction done.
    """

    def __init__(self, total: int, desc: str, *, every: int | None = None) -> None:
        self.total, self.desc, self.every, self.n = total, desc, every, 0
        self.postfix = ""
        self._started = self._last = time.perf_counter()
        self._written = False

    def update(self, n: int = 1) -> None:
        """Count ``n`` more units of work, and write a line when one is due."""
        before, self.n = self.n, self.n + n
        now = time.perf_counter()
        if self.every is not None:
            epoch = self.n // self.every
            if epoch == before // self.every:
                return
            last = self.n >= self.total
            if self._written and not last and now - self._last < EPOCH_LINE_SECONDS:
                return
            epochs = -(-self.total // self.every)
            self._write(f"epoch {epoch}/{epochs} (step {self.n}/{self.total})", now)
        elif now - self._last >= LINE_SECONDS:
            done = self.n / self.total if self.total else 1.0
            left = (now - self._started) * (1 - done) / done if done > 0 else float("nan")
            self._write(f"{self.n}/{self.total} ({100 * done:.0f}%), about {left:.0f} s left",
                        now)

    def set_postfix(self, refresh: bool = True, **values: Any) -> None:
        """What the next line ends with (a loss, say), as ``name=value`` pairs."""
        self.postfix = ", ".join(f"{name}={value}" for name, value in values.items())

    def _write(self, text: str, now: float) -> None:
        tail = f", {self.postfix}" if self.postfix else ""
        print(f"{self.desc}: {text}{tail}, {now - self._started:.1f} s", file=sys.stderr,
              flush=True)
        self._last, self._written = now, True

    def close(self) -> None:
        """Nothing to clear: the lines written stay."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def progress_bar(total: int, desc: str, *, show: bool, every: int | None = None,
                 unit: str = "it") -> Any:
    """A bar on a terminal, lines elsewhere, nothing when ``show`` is false.

    ``every`` marks a fit (a line per ``every`` steps off a terminal; the terminal bar shows
    at once); without it the work is an estimate (a line every :data:`LINE_SECONDS` off a
    terminal; the terminal bar after :data:`BAR_DELAY` seconds). The object returned has
    ``tqdm``'s ``update``, ``set_postfix`` and context-manager interface.
    """
    if show and not sys.stderr.isatty():
        return LineProgress(total, desc, every=every)
    return tqdm(total=total, desc=desc, unit=unit, leave=False, disable=not show,
                delay=0.0 if every is not None else BAR_DELAY)
