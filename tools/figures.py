"""Regenerate every figure the docs show, from full runs: ``make figures``.

``python tools/figures.py [--only demo|benchmarks|tutorial] [--work DIR]`` runs ``pvae demo``
(full mode) and the benchmarks that draw docs figures (full mode; the MNIST ones need
``../shared/data/mnist`` and take hours on two cores), then copies each figure to where the
docs show it; and it runs the tutorial's notebooks (``tools/tutorial.py``, minutes), which
write their figures and outputs into ``docs/tutorial/figures`` themselves. Every PNG carries
its run's provenance in its metadata (mode, command, date, versions, cores);
``tests/test_docs.py`` refuses a docs figure from a quick or tiny run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
#: the demo's figures the docs show: the demo's file name -> where the docs show it
DEMO = {f"{name}.png": DOCS / "figures" / f"{name}.png" for name in (
    "bounds_against_k", "gaps", "gaussian_likelihood", "interpolation", "latent_manifold",
    "latent_space", "latent_usage", "mixture_density", "reconstructions", "samples",
    "training_curves")}
#: each benchmark that draws docs figures: its file name -> where the docs show it
BENCHMARKS = {
    "likelihood_ladder": {name: DOCS / "figures" / name for name in (
        "likelihood_ladder_digits.png", "likelihood_ladder_mnist.png")},
    "sandwich": {name: DOCS / "figures" / name for name in (
        "sandwich_digits_vae.png", "sandwich_linear_gaussian.png")},
    "gaps": {"gaps.png": DOCS / "figures" / "gaps_mnist.png"},
    "holes": {name: DOCS / "figures" / "mnist" / name for name in (
        "holes_interpolation.png", "holes_prior_samples.png", "holes_codes_over_prior.png",
        "holes.md", "holes.json")},
    "generation": {name: DOCS / "figures" / "generation" / name for name in (
        "generation_nearest.png", "generation_blur.png", "generation_nll_fid.png",
        "generation.md", "generation.json")},
}


#: where the tutorial's notebooks record their figures and outputs (``tools/tutorial.py``)
TUTORIAL = DOCS / "tutorial" / "figures"


def tutorial_targets() -> set[Path]:
    """The tutorial's recorded outputs and every figure they name."""
    records = sorted(TUTORIAL.glob("*.json"))
    figures = {TUTORIAL / figure["file"] for record in records
               for cell in json.loads(record.read_text())["cells"] for figure in cell["figures"]}
    return {*records, *figures}


def every_target() -> set[Path]:
    """Every file this script writes into the docs."""
    return {*DEMO.values(), *(path for files in BENCHMARKS.values() for path in files.values()),
            *tutorial_targets()}


def _copy(files: dict[str, Path], folder: Path) -> None:
    for name, target in files.items():
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(folder / name, target)
        print(f"{folder / name} -> {target.relative_to(ROOT)}", flush=True)


def main(argv: list[str] | None = None) -> None:
    """Run the demo and the benchmarks in full mode; copy their figures into the docs."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--only", choices=("demo", "benchmarks", "tutorial"),
                        help="one part only")
    parser.add_argument("--work", type=Path, default=ROOT / ".venv" / "figures",
                        help="where the runs write before the copies (default .venv/figures)")
    args = parser.parse_args(argv)
    bin_folder = Path(sys.executable).parent
    environment = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    if args.only in (None, "demo"):
        out = args.work / "demo"
        subprocess.run([str(bin_folder / "pvae"), "demo", "--out", str(out), "--no-progress"],
                       check=True, cwd=ROOT, env=environment)
        _copy(DEMO, out / "figures")
    if args.only in (None, "benchmarks"):
        out = args.work / "benchmarks"
        subprocess.run([sys.executable, "-m", "benchmarks.run", *BENCHMARKS, "--out", str(out)],
                       check=True, cwd=ROOT)
        for files in BENCHMARKS.values():
            _copy(files, out)
    if args.only in (None, "tutorial"):
        subprocess.run([sys.executable, str(ROOT / "tools" / "tutorial.py")], check=True,
                       cwd=ROOT, env=environment)


if __name__ == "__main__":
    main()
