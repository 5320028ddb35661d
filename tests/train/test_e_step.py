import pyro
import pytest
import torch
from tqdm.auto import tqdm

import pvae
from pvae import GaussianMixture
from pvae.objectives import ClosedFormWarning
from pvae.train.e_step import EStep, checked_closed_forms
from pvae.train.em import ONE_THREAD_BELOW, run_em


@pytest.fixture
def blobs():
    generator = torch.Generator().manual_seed(0)
    centres = torch.tensor([[0.0, 0.0], [5.0, 0.0], [0.0, 5.0]], dtype=torch.float64)
    return centres.repeat_interleave(80, 0) + torch.randn(240, 2, generator=generator,
                                                          dtype=torch.float64)


class CountingMixture(GaussianMixture):
    """Counts how often Pyro runs the model (each enumerated E-step is one run)."""

    traced = 0

    def model(self, x, num_data=None):
        type(self).traced += 1
        return super().model(x, num_data)


class WithoutClosedForm(GaussianMixture):
    closed_form_log_joint = None  # the hook is absent: EM enumerates every iteration


class WrongClosedForm(GaussianMixture):
    def closed_form_log_joint(self, x):
        return super().closed_form_log_joint(x) + 1e-3  # a planted disagreement


class ListClosedForm(GaussianMixture):
    def closed_form_log_joint(self, x):
        return super().closed_form_log_joint(x).tolist()


class WideClosedForm(GaussianMixture):
    def closed_form_log_joint(self, x):
        return super().closed_form_log_joint(x).T


class FailingClosedForm(GaussianMixture):
    def closed_form_log_joint(self, x):
        raise RuntimeError("no closed form today")


def em(kind, x, max_iter=200):
    mixture = kind(3)
    mixture.initialize(x, torch.Generator().manual_seed(1))
    with tqdm(disable=True) as bar:
        losses, converged = run_em(mixture, x, max_iter=max_iter, tol=1e-10, bar=bar)
    return mixture, losses, converged


def test_em_on_the_closed_form_is_em_on_the_enumerated_model(blobs):
    closed, closed_losses, converged = em(GaussianMixture, blobs)
    enumerated, enumerated_losses, _ = em(WithoutClosedForm, blobs)
    assert converged and len(closed_losses) == len(enumerated_losses) > 3
    torch.testing.assert_close(torch.tensor(closed_losses), torch.tensor(enumerated_losses),
                               rtol=1e-12, atol=1e-12)
    for name in ("weights", "locs"):
        torch.testing.assert_close(getattr(closed, name), getattr(enumerated, name),
                                   rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(("kind", "says"), [(WrongClosedForm, "differs from the enumerated"),
                                            (FailingClosedForm, "RuntimeError: no closed form"),
                                            (ListClosedForm, "returned a list, not a tensor"),
                                            (WideClosedForm, r"shape \(240, 3\), not \(3, 240\)")])
def test_a_closed_form_that_disagrees_is_refused_saying_why(blobs, kind, says):
    with pytest.warns(ClosedFormWarning, match=says):
        _, losses, _ = em(kind, blobs)
    _, reference, _ = em(WithoutClosedForm, blobs)
    assert losses == reference  # EM ran on the enumerated model throughout


def test_an_agreement_is_remembered_so_later_fits_trace_no_model(blobs):
    CountingMixture.traced = 0
    em(CountingMixture, blobs, max_iter=5)
    assert CountingMixture.traced == 1  # the first E-step, which proves the closed form
    em(CountingMixture, blobs, max_iter=5)
    assert CountingMixture.traced == 1  # same code, dtype and device: no trace
    em(CountingMixture, blobs.float(), max_iter=5)
    assert CountingMixture.traced == 2  # another dtype is checked again


def test_a_wrong_closed_form_is_not_taken_for_a_checked_one(blobs):
    em(GaussianMixture, blobs, max_iter=3)  # checks GaussianMixture's own closed form
    with pytest.warns(ClosedFormWarning):
        em(WrongClosedForm, blobs, max_iter=3)  # a subclass: other code, checked again


def test_an_agreement_on_a_non_finite_table_is_not_remembered(blobs):
    mixture = GaussianMixture(3)
    mixture.initialize(blobs, torch.Generator().manual_seed(1))
    with torch.no_grad():
        mixture.locs_unconstrained[0, 0] = float("nan")
    step = EStep(mixture)
    with pyro.validation_enabled(False), torch.no_grad():
        assert torch.isnan(step(blobs)).any()  # both tables agree, NaN where NaN
    assert step.closed is not None and step.key(blobs) not in checked_closed_forms()


def test_a_non_finite_start_goes_back_to_the_checked_model(blobs):
    em(GaussianMixture, blobs, max_iter=3)
    mixture = GaussianMixture(3)
    mixture.initialize(blobs, torch.Generator().manual_seed(1))
    with torch.no_grad():
        mixture.locs_unconstrained[0, 0] = float("nan")
    with tqdm(disable=True) as bar, pytest.raises(ValueError, match="loc"):
        run_em(mixture, blobs, max_iter=3, tol=0.0, bar=bar)  # Pyro's argument check


def test_the_e_step_key_names_the_code_dtype_and_device(blobs):
    first, second = GaussianMixture(3, dim=2), GaussianMixture(3, dim=2, covariance="diag")
    assert EStep(first).key(blobs) == EStep(GaussianMixture(2, dim=2)).key(blobs)
    assert EStep(first).key(blobs) != EStep(second).key(blobs)
    assert EStep(first).key(blobs) != EStep(first).key(blobs.float())


class ThreadRecordingMixture(GaussianMixture):
    threads: list[int] = []

    def m_step(self, x, responsibilities):
        self.threads.append(torch.get_num_threads())
        super().m_step(x, responsibilities)


@pytest.mark.parametrize("rows", [100, ONE_THREAD_BELOW])
def test_small_data_run_on_one_thread_and_the_count_is_restored(rows):
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        x = torch.randn(rows, 2, generator=torch.Generator().manual_seed(0))
        mixture = ThreadRecordingMixture(2)
        mixture.initialize(x, torch.Generator().manual_seed(0))
        mixture.threads = []
        with tqdm(disable=True) as bar:
            run_em(mixture, x, max_iter=2, tol=0.0, bar=bar)
        assert mixture.threads == ([1, 1] if x.numel() < ONE_THREAD_BELOW else [2, 2])
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_fit_by_em_is_unchanged_by_the_closed_form(blobs):
    results = [pvae.fit(kind(3), blobs, method="em", seed=3, progress=False, tol=1e-9)
               for kind in (GaussianMixture, WithoutClosedForm)]
    assert results[0].losses == pytest.approx(results[1].losses, rel=1e-12, abs=1e-12)
