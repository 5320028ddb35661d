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
    assert "| a | iwae-10 |" in comparison_table(rows)


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
