import math

import numpy as np
import pytest
import torch

from pvae.estimate.compare import MixedEstimatesWarning, compare, comparison_table
from pvae.estimate.importance import Estimate


def test_the_paired_error_is_that_of_the_differences():
    generator = torch.Generator().manual_seed(0)
    difficulty = torch.randn(400, generator=generator, dtype=torch.float64) * 10
    a = difficulty + 0.3 + 0.1 * torch.randn(400, generator=generator, dtype=torch.float64)
    b = difficulty + 0.1 * torch.randn(400, generator=generator, dtype=torch.float64)
    rows = compare({"b": Estimate.of("iwae-10", b, 10), "a": Estimate.of("iwae-10", a, 10)})
    assert [row.name for row in rows] == ["a", "b"]
    assert rows[0].difference == 0 and rows[0].difference_stderr == 0
    assert rows[1].difference == pytest.approx(float((b - a).mean()))
    assert rows[1].difference_stderr == pytest.approx(float((b - a).std()) / 20)
    assert rows[1].difference_stderr < rows[1].estimate.stderr / 20  # pairing matters
    assert rows[1].z < -10
    table = comparison_table(rows).splitlines()
    assert table[0].endswith("| z | p |")
    assert table[2].startswith("| a | iwae-10 |") and table[2].endswith("| — | — |")
    assert table[3].endswith(f"| {rows[1].z:.2f} | {rows[1].p_value:.0e} |")


def test_the_table_tests_a_difference_within_its_noise_with_a_p_value_near_one():
    generator = torch.Generator().manual_seed(1)
    a = torch.randn(400, generator=generator, dtype=torch.float64)
    b = a + 0.01 * torch.randn(400, generator=generator, dtype=torch.float64)
    rows = compare({"a": Estimate.of("elbo", a, 1), "b": Estimate.of("elbo", b, 1)})
    worse = comparison_table(rows).splitlines()[3].split("|")
    assert abs(float(worse[6])) < 4 and float(worse[7]) == pytest.approx(rows[1].p_value, abs=1e-3)


def test_models_must_share_their_datapoints():
    one = Estimate.of("exact", torch.zeros(3), 0)
    with pytest.raises(ValueError, match="at least two"):
        compare({"a": one})
    with pytest.raises(ValueError, match="different numbers of datapoints"):
        compare({"a": one, "b": Estimate.of("exact", torch.zeros(4), 0)})
    with pytest.raises(ValueError, match="dict of model name -> Estimate"):
        compare(["a", "b"])
    with pytest.raises(ValueError, match="dict of model name -> Estimate"):
        compare({"a": one, "b": 0.5})


def test_models_scored_by_different_estimators_are_compared_with_a_warning():
    a = torch.linspace(-3.0, -1.0, 20)
    said = r"'a': elbo \(1 samples\), 'b': iwae-100 \(100 samples\).*same one"
    with pytest.warns(MixedEstimatesWarning, match=said):
        rows = compare({"a": Estimate.of("elbo", a, 1), "b": Estimate.of("iwae-100", a - 0.5,
                                                                         100)})
    assert [row.name for row in rows] == ["a", "b"]


def test_the_same_estimator_with_fewer_samples_is_another_estimator():
    a = torch.linspace(-3.0, -1.0, 20)
    with pytest.warns(MixedEstimatesWarning, match=r"ais-8 \(2 samples\).*ais-8 \(64 samples\)"):
        compare({"a": Estimate.of("ais-8", a, 2), "b": Estimate.of("ais-8", a + 0.1, 64)})


def _pair_of(difference, noise, n=400, seed=0):
    generator = torch.Generator().manual_seed(seed)
    difficulty = torch.randn(n, generator=generator, dtype=torch.float64) * 10
    a = difficulty + noise * torch.randn(n, generator=generator, dtype=torch.float64)
    b = difficulty + difference + noise * torch.randn(n, generator=generator, dtype=torch.float64)
    return a, b


def test_z_and_p_are_those_numpy_computes_from_the_same_differences():
    a, b = _pair_of(0.02, 0.3)
    rows = compare({"a": Estimate.of("iwae-10", a, 10), "b": Estimate.of("iwae-10", b, 10)})
    best, other = (b, a) if float(b.mean()) > float(a.mean()) else (a, b)
    d = other.numpy() - best.numpy()
    z = d.mean() / (d.std(ddof=1) / np.sqrt(len(d)))
    p = 2 * (1 - 0.5 * (1 + math.erf(abs(z) / math.sqrt(2))))
    assert rows[1].z == pytest.approx(z, rel=1e-9)
    assert rows[1].p_value == pytest.approx(p, rel=1e-6)
    assert rows[0].z == 0 and rows[0].p_value == 1.0


def test_identical_models_give_z_zero_and_p_one_different_ones_p_below_001():
    a, b = _pair_of(0.5, 0.3)
    same = compare({"a": Estimate.of("iwae-10", a, 10), "copy": Estimate.of("iwae-10", a, 10)})
    assert same[1].z == 0 and same[1].p_value == pytest.approx(1.0)
    apart = compare({"a": Estimate.of("iwae-10", a, 10), "b": Estimate.of("iwae-10", b, 10)})
    assert apart[1].name == "a" and apart[1].p_value < 0.01


def test_fits_from_several_seeds_pool_into_a_mean_difference_and_a_seed_spread():
    generator = torch.Generator().manual_seed(1)
    difficulty = torch.randn(300, generator=generator, dtype=torch.float64) * 5
    offsets = {"a": [0.0, 0.2, 0.1], "b": [-1.0, -1.4]}
    per_seed = {name: [difficulty + shift + 0.2 * torch.randn(300, generator=generator,
                                                            dtype=torch.float64)
                       for shift in shifts] for name, shifts in offsets.items()}
    rows = compare({name: [Estimate.of("iwae-10", v, 10) for v in values]
                    for name, values in per_seed.items()})
    a = torch.stack(per_seed["a"]).numpy()
    b = torch.stack(per_seed["b"]).numpy()
    d = b.mean(0) - a.mean(0)
    spread_a, spread_b = a.mean(1).std(ddof=1), b.mean(1).std(ddof=1)
    stderr = np.sqrt(d.var(ddof=1) / len(d) + spread_a**2 / 3 + spread_b**2 / 2)
    assert [row.name for row in rows] == ["a", "b"]
    assert [row.seeds for row in rows] == [3, 2]
    assert rows[0].seed_spread == pytest.approx(spread_a)
    assert rows[1].seed_spread == pytest.approx(spread_b)
    assert rows[1].difference == pytest.approx(d.mean())
    assert rows[1].difference_stderr == pytest.approx(stderr)
    assert rows[1].z == pytest.approx(d.mean() / stderr)
    assert rows[0].estimate.value == pytest.approx(a.mean())


def test_seeds_of_one_model_must_be_one_estimator_on_the_same_data():
    a = torch.linspace(-3.0, -1.0, 20)
    with pytest.raises(ValueError, match="'a' has no estimates"):
        compare({"a": [], "b": Estimate.of("exact", a, 0)})
    with pytest.raises(ValueError, match="'a'.*different estimators"):
        compare({"a": [Estimate.of("exact", a, 0), Estimate.of("elbo", a, 1)],
                 "b": Estimate.of("exact", a, 0)})
