import numpy as np
import pytest
import torch

from pvae.validation import DataError, as_data, check_positive_int, check_spread


def test_accepts_lists_numpy_and_tensors_and_keeps_float64():
    assert as_data([1.0, 2.0, 3.0]).shape == (3,)
    assert as_data(np.ones((4, 2))).dtype == torch.float64
    assert as_data(torch.ones(4, 2, dtype=torch.float64)).dtype == torch.float64
    assert as_data(np.arange(5)).dtype == torch.get_default_dtype()


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ([1.0, float("nan")], "NaN values in 1 of 2 rows"),
        ([[1.0, 2.0], [float("inf"), 0.0]], "infinite values .* row 1"),
        (np.ones((0, 2)), "empty"),
        (np.ones((2, 2, 2)), r"must be 1-D, 2-D .* shape \(2, 2, 2\)"),
        (["a", "b"], "must be numeric"),
        ([[1.0], [1.0, 2.0]], "could not be read"),
    ],
    ids=["nan", "inf", "empty", "3d", "strings", "ragged"],
)
def test_bad_data_says_what_is_wrong(bad, message):
    with pytest.raises(DataError, match=message):
        as_data(bad)


def test_zero_variance_is_named():
    with pytest.raises(DataError, match=r"zero variance in dimension\(s\) \[1\]"):
        check_spread(torch.tensor([[1.0, 2.0], [3.0, 2.0]]))


@pytest.mark.parametrize("value", [0, -1, 1.5, True, "3"])
def test_positive_int(value):
    with pytest.raises(ValueError, match="positive integer"):
        check_positive_int(value, "k")
