"""``pvae evaluate``: every estimate of log p(x) for one checkpoint or several, as tables."""

from __future__ import annotations

import argparse
from typing import Any

import torch

from ..checkpoint import load_checkpoint
from ..estimate import (
    Estimate,
    ais,
    bdmc,
    check_settings,
    compare,
    comparison_table,
    fidelity,
    gaps,
    holes,
    latent_usage,
    novelty,
    score,
    sharpness,
)
from ..plots import image_shape_of
from ..randomness import seeded
from .commands import model_and_data

__all__ = ["evaluate"]

#: training rows whose codes the holes are measured against
HOLE_ROWS = 5000
#: AIS chains per datapoint unless --chains says otherwise
CHAINS = 16
#: k-means cells of the data-copying test in --generation
GENERATION_CELLS = 5


def _table(title: str, rows: list[tuple[str, Estimate]]) -> None:
    print(title)
    print("| estimate | value | standard error |")
    print("|---|---|---|")
    for name, estimate in rows:
        print(f"| {name} | {estimate.value:.3f} | {estimate.stderr:.3f} |")


def _check(args: argparse.Namespace) -> dict[str, Any]:
    """Every option, before any file is read; the AIS settings."""
    if args.k < 1:
        raise ValueError(f"--k must be at least 1; got {args.k}")
    if args.n is not None and args.n < 1:
        raise ValueError(f"--n must be at least 1 (test rows to score); got {args.n}")
    if args.bdmc is not None and args.bdmc < 1:
        raise ValueError(f"--bdmc must be at least 1 (points to simulate); got {args.bdmc}")
    annealing = {"steps": 1000 if args.ais is None else args.ais,
                 "chains": CHAINS if args.chains is None else args.chains,
                 "start": args.start or "guide", "progress": args.progress,
                 "seed": 0 if args.seed is None else args.seed}
    if not 0 <= annealing["seed"] < 2**32:
        raise ValueError(f"--seed must be an integer from 0 to 2**32 - 1; got {args.seed}")
    if args.ais is not None or args.bdmc is not None:
        check_settings(annealing["steps"], annealing["chains"], 10, 100, 0.65,
                       annealing["start"])
    else:
        unused = [flag for flag, value in (("--chains", args.chains), ("--start", args.start))
                  if value is not None]
        if unused:
            raise ValueError(f"{' and '.join(unused)} set{'s' if len(unused) == 1 else ''} up "
                             "annealing, which only --ais or --bdmc runs: add one of them")
    return annealing


def _one(args: argparse.Namespace, path: Any, annealing: dict[str, Any]
         ) -> dict[str, Estimate] | None:
    """Print one checkpoint's tables; return its estimates of log p(x) by name.

    ``None`` for an autoencoder, whose numbers do not estimate log p(x).
    """
    model, data, saved = model_and_data(path, args.device)
    test = data.test if args.n is None else data.test[:args.n]
    test = test.to(next(model.parameters()))
    ks = sorted({k for k in (1, 10, 100, 1000, args.k) if k <= args.k})
    seed = annealing["seed"]  # every estimate below draws from it: repeatable to the bit
    scores = score(model, test, ks=ks, progress=args.progress, seed=seed)
    rows = [(e.name, e) for e in (scores.exact, scores.elbo, *scores.iwae) if e is not None]
    best = scores.exact or scores.iwae[-1]
    if args.ais is not None:
        estimate = ais(model, test, **annealing)
        rows.append((estimate.name, estimate))
        best = scores.exact or estimate
    title = f"{path}: {len(test)} test rows, nats per datapoint (higher is better)"
    point_mass = getattr(getattr(model, "guide", None), "has_density", True) is False
    if point_mass:
        title += ("\n(a point-mass guide, an autoencoder: these are log p(x | f(x)) + "
                  "log p(f(x)), not bounds on log p(x), and it is left out of comparisons)")
    _table(title, rows)
    if args.bdmc is not None:
        sandwich = bdmc(model, args.bdmc, ks=(ks[-1],), **annealing)
        _table(f"\nBDMC on {args.bdmc} points simulated from the model: log p(x) lies between "
               f"the two bounds (width {sandwich.width:.3f} nats)",
               [("upper (reverse AIS)", sandwich.upper), ("lower (forward AIS)", sandwich.lower),
                ("elbo", sandwich.elbo), *((e.name, e) for e in sandwich.iwae)])
    if args.gaps:
        split = gaps(model, test, log_likelihood=best, progress=args.progress, seed=seed)
        _table(f"\nWhere the gap comes from (log p(x) from {best.name}):",
               [(f"log p(x) ({best.name})", split.log_likelihood),
                ("local ELBO (q fitted to each image)", split.local_elbo),
                ("ELBO (amortised q)", split.elbo),
                ("approximation gap", split.approximation),
                ("amortisation gap", split.amortization)])
        if len(split.fallback):
            print(f"({len(split.fallback)} images kept the amortised q: their local fit "
                  "diverged)")
    if args.holes or args.generation:
        train = data.train[:HOLE_ROWS]
        with torch.random.fork_rng(devices=[]):  # the codes of what fit saw: transformed
            torch.manual_seed(0)
            train = data.transform(train) if data.transform is not None else train
        train = train.to(test)
    if args.holes:
        _holes(model, train, seed)
    if args.generation:
        _generation(model, train, test, seed)
    if args.usage:
        usage = latent_usage(model, test, seed=seed)
        print(f"\nLatent usage: KL {usage.kl:.3f} = mutual information "
              f"{usage.mutual_information:.3f} + marginal KL {usage.marginal_kl:.3f} nats; "
              f"{usage.active_units} of {len(usage.activity)} units active")
        if usage.kl_per_dim is not None:
            print("KL per dimension: " + ", ".join(f"{v:.2f}" for v in usage.kl_per_dim))
        print(f"({usage.note})")
    return None if point_mass else dict(rows)


def _generation(model: Any, train: torch.Tensor, test: torch.Tensor, seed: int) -> None:
    """Samples against the data: new or copied, like the data or not, blurred or not."""
    if not callable(getattr(model, "sample", None)) or len(test) < 2 * GENERATION_CELLS * 20:
        print(f"\nGeneration: needs a model with sample() and at least "
              f"{2 * GENERATION_CELLS * 20} test rows; skipped")
        return
    binary = bool(((test == 0) | (test == 1)).all())
    with seeded(seed):  # draws where the data are binary: the means would be another space
        samples = model.sample(len(test) // 2, mean=not binary).to(test)
    half = test[len(test) // 2:]
    quality = fidelity(samples, half, seed=seed)
    copying = novelty(samples, train, half, cells=GENERATION_CELLS, seed=seed)
    sharp = sharpness(samples, half, image_shape_of(tuple(test.shape[1:])))
    print(f"\nGeneration: {len(samples)} {'draws x ~ p(x | z)' if binary else 'mean images'} "
          f"against {len(half)} held-out rows (raw-pixel features)")
    print("| measure | value | reads |")
    print("|---|---|---|")
    print(f"| FID | {quality.fid:.3f} | lower is closer to the data |")
    print(f"| KID | {quality.kid:.4f} ± {quality.kid_stderr:.4f} | about 0 for data-like |")
    print(f"| precision, recall | {quality.precision:.3f}, {quality.recall:.3f} | realistic, "
          "covering |")
    print(f"| C_T | {copying.c_t:.2f} | about 0 new; below -3 copies; above 3 underfits "
          f"({len(copying.cell_z)} cells, {copying.kept_mass:.0%} of the held-out mass) |")
    print(f"| sharpness | {sharp.ratio:.3f} | of the data's; below 1 is blurrier |")


def _holes(model: Any, train: torch.Tensor, seed: int) -> None:
    measured = holes(model, train, seed=seed)
    covered = ("" if measured.coverage is None else
               f"; the codes cover {measured.coverage:.0%} of the prior's mass")
    print(f"\nHoles, against {len(train)} training codes: {measured.prior.share:.1%} of prior "
          f"draws and {measured.interpolation.share:.1%} of interpolation points lie in a "
          f"hole; a prior draw's median distance to the nearest code is "
          f"{float(measured.prior.distance.median()):.2f} code spacings{covered}")
    print(f"({measured.note})")


def evaluate(args: argparse.Namespace) -> int:
    """``pvae evaluate CHECKPOINT [CHECKPOINT ...]``."""
    annealing = _check(args)
    tables = {str(path): load_checkpoint(path).config.data for path in args.checkpoint}
    if len({repr(sorted(table.items())) for table in tables.values()}) > 1:
        raise ValueError("these checkpoints were trained on different data ([data] tables "
                         "differ): models are compared on the same test rows only")
    scored: dict[str, dict[str, Estimate]] = {}
    for number, path in enumerate(args.checkpoint):
        if number:
            print()
        name = str(path) if str(path) not in scored else f"{path} ({number + 1})"
        estimates = _one(args, path, annealing)
        if estimates is not None:
            scored[name] = estimates
    if len(scored) > 1:
        kind = _shared_estimator(scored)
        print(f"\nThe models on the same test rows by {kind or 'their best estimates'}, best "
              "first (paired standard errors):")
        print(comparison_table(compare({name: estimates[kind] if kind else
                                        max(estimates.values(), key=_tightness)
                                        for name, estimates in scored.items()})))
    return 0


def _tightness(estimate: Estimate) -> tuple[int, int]:
    """Exact first, then AIS, then IWAE by k: the order in which estimates close the gap."""
    kind = estimate.name.split("-")[0]
    return ({"exact": 3, "ais": 2, "iwae": 1}.get(kind, 0), estimate.num_samples)


def _shared_estimator(scored: dict[str, dict[str, Estimate]]) -> str | None:
    """The tightest estimator every model was scored by: models compare like with like.

    ``None`` when they share none (an enumerated mixture has only its exact value): the
    comparison then says it mixes estimators (:class:`~pvae.estimate.MixedEstimatesWarning`).
    """
    shared = set.intersection(*(set(estimates) for estimates in scored.values()))
    if not shared:
        return None
    first = next(iter(scored.values()))
    return max(shared, key=lambda kind: _tightness(first[kind]))
