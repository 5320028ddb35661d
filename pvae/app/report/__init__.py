"""``pvae demo``: every model of the package on the embedded digits, scored the same way.

The report is one file per section: :mod:`.gaussian` (1, maximum likelihood and a posterior),
:mod:`.mixture` (2, a likelihood that is a sum), :mod:`.latent` (3, bounds on a continuous
mixture), with its holes (:mod:`.holes`) and gaps (:mod:`.gaps`); :mod:`.figures` saves what
they draw. :func:`run_demo` puts them together.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import torch

from ...data import digits
from .figures import Figures, save_figures
from .gaussian import gaussian_section
from .latent import latent_section
from .mixture import mixture_section

__all__ = ["run_demo"]


@contextlib.contextmanager
def _section(label: str) -> Iterator[None]:
    """Say on standard error what the demo is doing and, when done, how long it took.

    Plain lines, flushed at once, so that a log or a pipe shows them as they happen.
    """
    print(f"pvae demo: {label} ...", file=sys.stderr, flush=True)
    started = time.perf_counter()
    yield
    print(f"pvae demo: {label}: done in {time.perf_counter() - started:.0f} s", file=sys.stderr,
          flush=True)


def run_demo(out: Path, *, seed: int = 0, device: str = "auto", quick: bool = False,
             progress: bool = True, command: str | None = None) -> str:
    """Fit every model on the digits; write ``out/report.md`` and its figures; return it.

    ``command`` is what the figures' provenance names as their maker (default: the running
    process's command line).
    """
    started = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    data = digits(dtype=torch.float64)
    figures: Figures = {}
    ink_train, ink_test = data.train.mean(1), data.test.mean(1)
    with _section("1/3 a Gaussian: maximum likelihood, then NUTS"):
        gaussian_lines, gaussian_score = gaussian_section(ink_train, ink_test, seed, device,
                                                          quick, figures)
    with _section("2/3 a Gaussian mixture: K chosen, EM, SVI and scikit-learn"):
        mixture_lines, mixture_scores = mixture_section(
            data.train, data.test, data.train_labels, seed, device, quick, figures)
    with _section("3/3 latent models: PCA and four VAEs, bounds, holes, gaps"):
        latent_lines, latent_scores = latent_section(
            data.train, data.test, data.test_labels, out, seed, device, quick, progress,
            figures)
    with _section("figures"):
        figure_lines = save_figures(figures, out, mode="quick" if quick else "full",
                                    command=command)
    lines = [
        "# pvae demo: likelihoods on the digits",
        "",
        f"{len(data.train)} training and {len(data.test)} test images from scikit-learn's "
        "digits; no download. Every model is scored on the same test split.",
        "",
        *gaussian_lines,
        *mixture_lines,
        *latent_lines,
        "## Held-out log-likelihood",
        "",
        "| model | fitted by | test log p(x), nats per point |",
        "|---|---|---|",
        *(f"| {model} | {how} | {value:.4f} |"
          for model, how, value in [gaussian_score, *mixture_scores, *latent_scores]),
        "",
        "The Gaussian row scores a one-number summary of each image, the mixture rows a "
        "two-number one and the latent models all 64 dequantized pixels: compare rows within "
        "a section, not across.",
        "",
        "## Figures",
        "",
        *figure_lines,
        f"Finished in {time.perf_counter() - started:.0f} s.",
    ]
    report = "\n".join(lines) + "\n"
    (out / "report.md").write_text(report)
    return report
