import pytest
import torch

import pvae
from pvae import Gaussian
from pvae.train.state import TrainingState


def test_minibatches_scale_the_loss_to_the_whole_data():
    x = torch.randn(1000, dtype=torch.float64) * 2 + 1
    gaussian = Gaussian()
    full = pvae.fit(gaussian, x, steps=1, lr=1e-12, progress=False)
    batched = pvae.fit(gaussian, x, epochs=1, batch_size=100, lr=1e-12, reinitialize=False,
                       progress=False)
    assert batched.steps == 10
    # each minibatch loss estimates the full loss; their mean over an epoch is exact
    assert sum(batched.losses) / 10 == pytest.approx(full.final_loss, rel=1e-6)


def test_time_limit_stops_early():
    x = torch.randn(64)
    result = pvae.fit(Gaussian(), x, steps=100_000, time_limit=0.2, progress=False)
    assert 0 < result.steps < 100_000


class Recording(Gaussian):
    """A Gaussian that remembers every minibatch its model sees."""

    def __init__(self):
        super().__init__()
        self.batches: list[torch.Tensor] = []

    def model(self, x, num_data=None):
        # one step may run the model more than once (the lean ELBO has Trace_ELBO judge a
        # structure it has not seen): a batch is recorded once per step
        if not self.batches or not torch.equal(self.batches[-1], x):
            self.batches.append(x.detach().clone())
        return super().model(x, num_data)


def test_each_epoch_visits_every_row_once_in_a_new_order():
    x = torch.arange(10, dtype=torch.float64) + torch.rand(10, dtype=torch.float64)
    pair = Recording()
    result = pvae.fit(pair, x, epochs=3, batch_size=4, lr=1e-6, seed=0, progress=False)
    assert result.steps == 9  # 4 + 4 + 2: the last batch of an epoch is partial
    seen = pair.batches[-9:]
    assert [len(b) for b in seen] == [4, 4, 2] * 3
    epochs = [torch.cat(seen[i:i + 3]) for i in (0, 3, 6)]
    for epoch in epochs:
        assert torch.equal(epoch.sort().values, x)
    assert not torch.equal(epochs[0], epochs[1])


def test_on_epoch_end_receives_the_state_of_every_epoch():
    states: list[TrainingState] = []
    x = torch.randn(30, dtype=torch.float64)
    result = pvae.fit(Gaussian(), x, epochs=4, batch_size=10, lr=0.05, validation=x[:5],
                      seed=1, progress=False, on_epoch_end=states.append)
    assert [s.epoch for s in states] == [1, 2, 3, 4] and [s.step for s in states] == [3, 6, 9, 12]
    assert states[-1].losses == result.losses
    assert states[-1].history == result.history and len(result.history.validation) == 4
    assert result.history.loss[1] == pytest.approx(sum(result.losses[3:6]) / 3)


def test_patience_stops_once_the_validation_loss_stops_improving():
    # training rows sit at 10 and validation rows at 3: climbing from 0 towards 10 the fit
    # passes the validation data's mean, after which every epoch scores it worse
    generator = torch.Generator().manual_seed(0)
    train = 10 + torch.randn(200, generator=generator, dtype=torch.float64)
    held_out = 3 + torch.randn(50, generator=generator, dtype=torch.float64)
    gaussian = Gaussian()
    result = pvae.fit(gaussian, train, epochs=500, lr=0.1, validation=held_out, patience=5,
                      reinitialize=False, seed=0, progress=False)
    curve = result.history.validation
    best = curve.index(min(curve))
    assert result.stopped_early and len(curve) == best + 1 + 5 < 500
    assert all(later >= curve[best] for later in curve[best + 1:])
    assert result.steps == len(curve)  # one full-batch step per epoch, none after the stop
    unstopped = pvae.fit(Gaussian(), train, epochs=20, lr=0.1, validation=held_out,
                         patience=100, reinitialize=False, seed=0, progress=False)
    assert not unstopped.stopped_early and len(unstopped.history.validation) == 20


@pytest.mark.parametrize(("curve", "patience", "stops"), [
    ([3.0, 2.0, 2.5, 2.6], 2, True),
    ([3.0, 2.0, 2.5, 1.9], 2, False),   # a new best resets the count
    ([3.0, 2.0, 2.0, 2.0], 2, True),    # equal is not better
    ([3.0, 2.0], 2, False),
    ([3.0, 2.0, 2.5, 2.6], None, False),
])
def test_stalled_counts_epochs_since_the_best(curve, patience, stops):
    from pvae.train.svi import stalled

    assert stalled(curve, patience) is stops


def test_patience_needs_validation_and_svi():
    x = torch.randn(50)
    with pytest.raises(ValueError, match="pass validation="):
        pvae.fit(Gaussian(), x, epochs=3, patience=2, progress=False)
    with pytest.raises(ValueError, match="does not use patience"):
        pvae.fit(Gaussian(), x, method="em", patience=2, progress=False)
    with pytest.raises(ValueError, match="patience must be"):
        pvae.fit(Gaussian(), x, epochs=3, patience=0, validation=x, progress=False)


def test_a_line_search_optimiser_is_driven_through_a_closure_and_reaches_the_mle(rng):
    from pvae import Gaussian
    from pvae.train.svi import ONE_EVALUATION

    x = torch.as_tensor(rng.normal(3.0, 2.0, size=(200, 2)), dtype=torch.float64)
    gaussian = Gaussian(dim=2)
    evaluations = []

    def lbfgs(params):
        optimizer = torch.optim.LBFGS(params, lr=1.0, max_iter=20,
                                      line_search_fn="strong_wolfe")
        step = optimizer.step
        optimizer.step = lambda closure: step(lambda: evaluations.append(1) or closure())
        return optimizer

    assert torch.optim.LBFGS not in ONE_EVALUATION
    pvae.fit(gaussian, x, steps=30, batch_size=None, optimizer=lbfgs, progress=False)
    assert len(evaluations) > 30  # several evaluations a step: the closure, not one call
    loc, scale = Gaussian.closed_form(x)
    torch.testing.assert_close(gaussian.loc.detach(), loc, rtol=0, atol=1e-4)
    torch.testing.assert_close(gaussian.scale.detach(), scale, rtol=1e-4, atol=0)
