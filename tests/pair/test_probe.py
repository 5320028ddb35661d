"""pvae's runs beside training leave a module's state as the training steps alone leave it."""

import pytest
import torch
from pyro.infer import Trace_ELBO
from torch import nn

import pvae
from pvae.data import binarize, digits
from pvae.nets import Network
from pvae.objectives.default import CheckedTrace_ELBO
from pvae.pair import buffers_kept, check_pair


class BatchNormMLP(Network):
    """An encoder whose batch norm counts the batches it sees in training mode."""

    def build(self, in_shape, out_shape):
        return nn.Sequential(nn.Flatten(), nn.Linear(64, 16), nn.BatchNorm1d(16), nn.ReLU(),
                             nn.Linear(16, 6), nn.Unflatten(-1, out_shape))


def batch_norm_vae(seed=0, objective="elbo"):
    torch.manual_seed(seed)
    return pvae.VAE((64,), 3, encoder=BatchNormMLP(), decoder={"name": "mlp", "hidden": [8]},
                    objective=objective)


def norm_of(vae):
    return next(m for m in vae.guide.encoder.modules() if isinstance(m, nn.BatchNorm1d))


def buffers(vae):
    return {name: value.clone() for name, value in vae.named_buffers()}


def test_buffers_updated_or_replaced_inside_the_block_come_back():
    norm = nn.BatchNorm1d(3)
    before, count = norm.running_mean, norm.num_batches_tracked
    with buffers_kept(norm, print):  # (a function holds no buffers: left alone)
        norm(torch.randn(5, 3))
        norm.running_var = torch.full((3,), 7.0)
    assert norm.running_mean is before and norm.num_batches_tracked is count
    assert int(count) == 0 and torch.equal(before, torch.zeros(3))
    assert torch.equal(norm.running_var, torch.ones(3))


def test_checks_beside_training_leave_the_running_statistics_alone(float64):
    vae = batch_norm_vae()
    x = binarize(digits(torch.float64).test[:40])
    kept = buffers(vae)
    check_pair(vae, x)
    after = buffers(vae)
    assert all(torch.equal(kept[name], after[name]) for name in kept)


@pytest.mark.parametrize("batch_size", [None, 16])
def test_a_fit_updates_batch_norm_once_per_step_as_trace_elbo_does(float64, batch_size):
    x = binarize(digits(torch.float64).test[:40])
    states = []
    for objective in ("elbo", Trace_ELBO(max_plate_nesting=1)):
        vae = batch_norm_vae(objective=objective)
        pvae.fit(vae, x, steps=5, batch_size=batch_size, seed=1, progress=False,
                 terms_on=x[:8])
        assert int(norm_of(vae).num_batches_tracked) == 5  # one per step, and no more
        states.append(buffers(vae))
    for name, value in states[0].items():  # (the paths' gradients differ in their last bits,
        # which five Adam steps carry to 1e-7 of the statistics; a second update moves 10%)
        torch.testing.assert_close(value, states[1][name], rtol=1e-6, atol=0)


def test_the_lean_objectives_first_call_updates_state_as_trace_elbos_does(float64):
    x = binarize(digits(torch.float64).test[:20])
    after = []
    for objective in (CheckedTrace_ELBO(max_plate_nesting=1), Trace_ELBO(max_plate_nesting=1)):
        vae = batch_norm_vae()
        torch.manual_seed(3)
        for _ in range(2):  # the first call judges the structure; the second is lean
            objective.loss_and_grads(vae.model, vae.guide, x)
        assert int(norm_of(vae).num_batches_tracked) == 2
        after.append(buffers(vae))
    for name, value in after[0].items():
        torch.testing.assert_close(value, after[1][name], rtol=1e-12, atol=0)
