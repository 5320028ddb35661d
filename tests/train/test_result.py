import json

import pytest

from pvae.train.result import HISTORY_FIELDS, FitResult, History


def test_history_round_trips_through_plain_data():
    history = History(epoch=[1, 2], loss=[3.0, 2.5], validation=[3.1, 2.7], kl=[0.5, 0.7])
    again = History.from_dict(json.loads(json.dumps(history.to_dict())))
    assert again == history and set(history.to_dict()) == set(HISTORY_FIELDS)
    copy = history.copy()
    copy.loss.append(1.0)
    assert history.loss == [3.0, 2.5]  # a copy shares no list


def test_history_refuses_curves_it_does_not_know():
    with pytest.raises(ValueError, match=r"no curve\(s\) \['elbo'\]"):
        History.from_dict({"epoch": [1], "elbo": [1.0]})
    assert History.from_dict({"epoch": [1]}).loss == []


def test_fit_result_reads_its_history():
    result = FitResult(losses=[3.0, 2.0], method="svi", num_data=10, converged=None,
                       seconds=0.1, device="cpu", history=History(epoch=[1], validation=[2.2]))
    assert result.final_loss == 2.0 and result.steps == 2
    assert result.validation_losses == [2.2]
