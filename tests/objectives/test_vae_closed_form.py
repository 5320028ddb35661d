"""The closed-form ELBO (and its compiled graph) is Trace_ELBO's, or steps aside and says why."""

import warnings

import pytest
import torch
from pyro import poutine
from pyro.infer import Trace_ELBO
from torch import nn

import pvae
from pvae.data import binarize, digits
from pvae.nets import Network, networks, pyro_visible
from pvae.objectives import ClosedFormWarning, objectives
from pvae.objectives import vae_closed_form as closed_form
from pvae.objectives.default import CheckedTrace_ELBO
from pvae.objectives.vae_closed_form import (
    COMPILE_ISOLATES,
    ClosedFormELBO,
    closed_form_problem,
    compile_problem,
)

#: the compiled graph needs torch.compile(isolate_recompiles=...), torch 2.13; an older torch
#: trains uncompiled with one warning (test_an_older_torch_trains_uncompiled_saying_why)
needs_isolated_compile = pytest.mark.skipif(
    not COMPILE_ISOLATES, reason=f"torch {torch.__version__} has no isolate_recompiles")

SMALL = {"encoder": {"name": "mlp", "hidden": [8]}, "decoder": {"name": "mlp", "hidden": [8]}}


def small_vae(x_shape=(64,), **parts):
    return pvae.VAE(x_shape, 3, **{**SMALL, **parts})


def value_and_grads(objective, vae, x, seed=1, **kwargs):
    torch.manual_seed(seed)
    for parameter in vae.parameters():
        parameter.grad = None
    loss = objective.loss_and_grads(vae.model, vae.guide, x, **kwargs)
    return loss, [p.grad.clone() for p in vae.parameters()]


def assert_as_trace_elbo(objective, vae, x, seed=1, **kwargs):
    ours, our_grads = value_and_grads(objective, vae, x, seed, **kwargs)
    theirs, their_grads = value_and_grads(Trace_ELBO(max_plate_nesting=1), vae, x, seed,
                                          **kwargs)
    assert ours == pytest.approx(theirs, rel=1e-12, abs=1e-9)
    for mine, reference in zip(our_grads, their_grads, strict=True):
        torch.testing.assert_close(mine, reference, rtol=1e-10, atol=1e-10)


def binary(n=40, shape=(64,)):
    return binarize(digits(torch.float64).test[:n]).reshape(n, *shape)


@pytest.mark.parametrize("x_shape", [(64,), (8, 8), (1, 8, 8)])
def test_value_and_gradient_are_trace_elbos_under_minibatch_and_warm_up(float64, x_shape):
    vae = small_vae(x_shape)
    x = binary(shape=x_shape)
    objective = CheckedTrace_ELBO(max_plate_nesting=1)
    for rows, num_data, weight in [(10, 40, 1.0), (10, 40, 0.3), (7, 40, 0.5), (40, None, 1.0),
                                   (10, 40, 1.0), (7, 40, 0.01), (40, None, 2.0)]:
        vae.kl_weight = weight
        kwargs = {} if num_data is None else {"num_data": num_data}
        assert_as_trace_elbo(objective, vae, x[:rows], seed=rows, **kwargs)
    assert objective.closed_reason == ""
    assert objective.closed_calls >= 3  # each key's first call is lean, and checked


def test_a_fit_follows_trace_elbo_step_by_step(float64):
    x = binary(300)
    runs, objectives_used = [], []
    for objective in ("elbo", Trace_ELBO(max_plate_nesting=1)):
        torch.manual_seed(0)
        vae = small_vae(objective=objective)
        runs.append(pvae.fit(vae, x, epochs=3, batch_size=64, kl_warmup=5, seed=0,
                             progress=False).losses)
        objectives_used.append(vae.objective())
    assert objectives_used[0].closed_calls > 0
    torch.testing.assert_close(torch.tensor(runs[0]), torch.tensor(runs[1]), rtol=1e-10,
                               atol=0)


def test_a_swapped_network_or_weight_is_seen_on_the_next_call(float64):
    vae = small_vae()
    x = binary()
    objective = CheckedTrace_ELBO(max_plate_nesting=1)
    assert_as_trace_elbo(objective, vae, x)
    vae.model.decoder = pyro_visible(
        networks.resolve({"name": "mlp", "hidden": [5]}).build((3,), (64,)))
    assert_as_trace_elbo(objective, vae, x)  # a new pair of networks: checked again
    assert_as_trace_elbo(objective, vae, x, seed=2)
    layer = pyro_visible(nn.Linear(64, 8))
    vae.guide.encoder._modules["1"] = layer  # a submodule replaced in place (its order kept)
    layer._pyro_set_supermodule("guide.encoder.1", vae.guide.encoder._pyro_context)
    assert_as_trace_elbo(objective, vae, x)
    vae.model.kl_weight = 0.5  # the guide's weight left at 1: Trace_ELBO scales them apart
    assert_as_trace_elbo(objective, vae, x)
    assert objective.closed_calls == 4  # all but the last: their weights differ


def test_dropout_follows_train_and_eval_mode(float64):
    class DropoutMLP(Network):
        def build(self, in_shape, out_shape):
            return nn.Sequential(nn.Flatten(), nn.Linear(64, 16), nn.Dropout(0.3), nn.ReLU(),
                                 nn.Linear(16, 6), nn.Unflatten(-1, out_shape))

    vae = small_vae(encoder=DropoutMLP())
    x = binary()
    objective = CheckedTrace_ELBO(max_plate_nesting=1)
    for mode in ("train", "eval", "train"):
        getattr(vae, mode)()
        assert_as_trace_elbo(objective, vae, x)
        assert_as_trace_elbo(objective, vae, x, seed=2)
    assert objective.closed_calls > 0
    assert "Dropout" in compile_problem(vae.model, vae.guide)


@pytest.mark.parametrize(("parts", "problem"), [
    ({"prior": "mog"}, "prior is a MixtureOfGaussians"),
    ({"likelihood": "gaussian"}, "likelihood is a Gaussian"),
    ({"guide": "flow"}, "guide is a"),
])
def test_other_parts_take_the_lean_path_and_compiled_says_why(float64, parts, problem):
    vae = small_vae(**parts)
    x = binary() if "likelihood" not in parts else digits(torch.float64).test[:40]
    assert problem in closed_form_problem(vae.model, vae.guide)
    quiet = CheckedTrace_ELBO(max_plate_nesting=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ClosedFormWarning)
        assert_as_trace_elbo(quiet, vae, x)
    assert problem in quiet.closed_reason and quiet.closed_calls == 0 and quiet.lean
    compiled = objectives.resolve({"name": "elbo", "compile": True})
    with pytest.warns(ClosedFormWarning, match=problem):
        assert_as_trace_elbo(compiled, vae, x)
    assert_as_trace_elbo(compiled, vae, x)  # said once


def test_a_wrapped_model_and_a_handler_on_the_stack_make_the_sites():
    vae = small_vae()
    objective = CheckedTrace_ELBO(max_plate_nesting=1)
    objective.loss(poutine.scale(vae.model, 0.5), vae.guide, binarize(digits().test[:20]))
    assert "has no closed form" in objective.closed_reason
    x = binarize(digits().test[:20])
    objective = CheckedTrace_ELBO(max_plate_nesting=1)
    for _ in range(3):
        objective.loss(vae.model, vae.guide, x)
    with poutine.trace(param_only=True) as seen:
        objective.loss(vae.model, vae.guide, x)
    assert len(seen.trace.nodes) == len(list(vae.parameters()))


def closed_already():
    """A VAE, its data and an objective whose key for that data is taken."""
    vae = small_vae()
    x = binarize(digits().test[:20])
    objective = CheckedTrace_ELBO(max_plate_nesting=1)
    for _ in range(2):
        objective.loss(vae.model, vae.guide, x)
    assert objective.closed_calls == 2
    return vae, x, objective


def test_data_out_of_support_raises_on_a_closed_call():
    vae, x, objective = closed_already()
    calls = objective.closed_calls
    for bad in (0.5, float("nan"), float("inf"), 2.0, -1.0):
        y = x.clone()
        y[3, 7] = bad
        with pytest.raises(ValueError, match="support|Expected (value argument|parameter)"):
            objective.loss(vae.model, vae.guide, y)
    assert objective.closed_calls == calls
    negative_zeros = torch.where(x == 0, -0.0, x)  # -0.0 is 0 to the Bernoulli too
    assert ClosedFormELBO.in_support(x) and ClosedFormELBO.in_support(negative_zeros)
    assert not ClosedFormELBO.in_support(x.long())


def test_a_non_finite_loss_goes_back_to_trace_elbo():
    vae, x, objective = closed_already()
    with torch.no_grad():
        next(vae.model.decoder.parameters())[0, 0] = float("nan")
    with pytest.raises(ValueError, match="logits"):  # Trace_ELBO's own argument check
        objective.loss(vae.model, vae.guide, x)


@needs_isolated_compile
def test_compiled_value_and_gradient_are_trace_elbos_and_it_compiles_once(float64):
    vae = small_vae(objective={"name": "elbo", "compile": True})
    x = binary(100)
    objective = vae.objective()
    for rows, weight in [(20, 1.0), (20, 0.3), (20, 0.7), (20, 1.0)]:
        vae.kl_weight = weight
        assert_as_trace_elbo(objective, vae, x[:rows], num_data=100)
    form = objective.closed_form
    assert form.compiled and form.compilations == 1 and objective.closed_calls == 4
    # a fit with a warm-up whose last minibatch is partial, then resumed: a graph per shape
    vae = small_vae(objective={"name": "elbo", "compile": True})
    objective = vae.objective()
    states = []
    first = pvae.fit(vae, x, epochs=2, batch_size=30, kl_warmup=5, seed=0, progress=False,
                     on_epoch_end=states.append)
    form = objective.closed_form
    assert form.compilations == 2 and objective.closed_reason == ""  # 30 rows, and 10
    again = pvae.fit(vae, x, epochs=3, batch_size=30, kl_warmup=5, seed=0, progress=False,
                     resume=states[0])
    assert form.compilations == 2
    assert len(first.losses) == 8 and len(again.losses) == 12
    assert objective.closed_calls == 8 + 8  # every step (finding the parameters is lean)


def grads_of(objective, vae, x, calls=1, seed=1):
    """The loss and the gradients (None where a parameter has none) after ``calls`` calls."""
    torch.manual_seed(seed)
    for parameter in vae.parameters():
        parameter.grad = None
    for _ in range(calls):  # (a second call adds into the gradients, as backward does)
        loss = objective.loss_and_grads(vae.model, vae.guide, x, num_data=100)
    return loss, [None if p.grad is None else p.grad.clone() for p in vae.parameters()]


def assert_grads_as_trace_elbos(objective, vae, x, calls=1):
    ours, our_grads = grads_of(objective, vae, x, calls)
    theirs, their_grads = grads_of(Trace_ELBO(max_plate_nesting=1), vae, x, calls)
    assert ours == pytest.approx(theirs, rel=1e-12, abs=1e-9)
    assert [g is None for g in our_grads] == [g is None for g in their_grads]
    for mine, reference in zip(our_grads, their_grads, strict=True):
        if mine is not None:
            torch.testing.assert_close(mine, reference, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("compiled", [False, pytest.param(True, marks=needs_isolated_compile)])
def test_frozen_replaced_and_accumulated_gradients_are_trace_elbos(float64, compiled):
    vae = small_vae(objective={"name": "elbo", "compile": compiled})
    x = binary(20)
    objective = vae.objective()
    next(vae.guide.encoder.parameters()).requires_grad_(False)  # frozen: no gradient
    assert_grads_as_trace_elbos(objective, vae, x)
    layer = next(m for m in vae.model.decoder.modules() if isinstance(m, nn.Linear))
    layer.weight = nn.Parameter(layer.weight.detach() * 0.5)  # a parameter replaced
    assert_grads_as_trace_elbos(objective, vae, x)
    assert_grads_as_trace_elbos(objective, vae, x, calls=2)  # added into .grad
    assert objective.closed_calls == 1 + 1 + 2  # (each key's first call, and every other)
    assert objective.closed_form.compiled is compiled
    assert objective.closed_form.compilations == (2 if compiled else 0)  # (replaced: once more)


@needs_isolated_compile
def test_the_compiled_differentiable_loss_carries_the_graphs_gradient(float64):
    vae = small_vae(objective={"name": "elbo", "compile": True})
    x = binary(20)

    def value_and_grads_through_backward(objective):
        torch.manual_seed(1)
        for parameter in vae.parameters():
            parameter.grad = None
        loss = objective.differentiable_loss(vae.model, vae.guide, x, num_data=100)
        (2 * loss).backward()  # (an upstream gradient of 2, as a caller's own sum would give)
        return loss.item(), [p.grad.clone() for p in vae.parameters()]

    objective = vae.objective()
    ours, our_grads = value_and_grads_through_backward(objective)
    theirs, their_grads = value_and_grads_through_backward(Trace_ELBO(max_plate_nesting=1))
    assert ours == pytest.approx(theirs, rel=1e-12)
    for mine, reference in zip(our_grads, their_grads, strict=True):
        torch.testing.assert_close(mine, reference, rtol=1e-10, atol=1e-10)
    assert objective.closed_calls == 1 and objective.closed_form.compilations == 1
    assert_grads_as_trace_elbos(objective, vae, x)  # loss_and_grads: the same graph
    assert objective.closed_form.compilations == 1


@needs_isolated_compile
def test_the_compiled_graph_adds_no_gradient_where_it_steps_aside():
    vae = small_vae(objective={"name": "elbo", "compile": True})
    x = binarize(digits().test[:20])
    objective = vae.objective()
    objective.loss_and_grads(vae.model, vae.guide, x)  # the key is taken: compiled
    calls = objective.closed_calls

    def refused(y, match):
        for parameter in vae.parameters():
            parameter.grad = None
        with pytest.raises(ValueError, match=match):  # Trace_ELBO's own check, and nothing
            objective.loss_and_grads(vae.model, vae.guide, y)  # added to any gradient
        assert all(parameter.grad is None for parameter in vae.parameters())

    for bad in (0.5, float("nan"), float("inf"), 2.0, -1.0):
        y = x.clone()
        y[3, 7] = bad
        refused(y, "support|Expected (value argument|parameter)")
    with torch.no_grad():
        next(vae.model.decoder.parameters())[0, 0] = float("nan")
    refused(x, "logits")  # a non-finite loss
    assert objective.closed_calls == calls and objective.closed_form.compilations == 1


def test_compile_is_checked_with_the_other_options():
    for bad in ({"num_particles": 2}, {"gradient": "stl"}):
        with pytest.raises(ValueError, match="compile=True"):
            objectives.resolve({"name": "elbo", "compile": True, **bad})
    with pytest.raises(TypeError):
        objectives.resolve({"name": "elbo", "compile": "yes"})


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_compiled_on_cuda_captures_graphs_and_matches_the_eager_closed_form():
    vae = small_vae(objective={"name": "elbo", "compile": True}).to("cuda")
    x = binarize(digits().test[:64]).to("cuda")
    objective = vae.objective()
    assert_as_trace_elbo(objective, vae, x, num_data=500)
    assert_as_trace_elbo(objective, vae, x, num_data=500)
    assert objective.closed_form.compiled and objective.closed_calls == 2


@needs_isolated_compile
def test_a_failing_compiler_falls_back_to_the_uncompiled_closed_form(float64, monkeypatch):
    def broken(self, graph, inputs):
        raise RuntimeError("no C compiler\nmore lines")

    monkeypatch.setattr(closed_form._Counted, "__call__", broken)
    vae = small_vae(objective={"name": "elbo", "compile": True})
    x = binary()
    objective = vae.objective()
    with pytest.warns(ClosedFormWarning, match=r"torch.compile failed \(.*no C compiler\)"):
        assert_as_trace_elbo(objective, vae, x)
    assert_as_trace_elbo(objective, vae, x)
    assert not objective.closed_form.compiled and objective.closed_calls == 1
    assert "torch.compile failed" in objective.closed_reason


def test_a_closed_form_that_disagrees_with_the_lean_path_is_never_used(float64, monkeypatch):
    wrong = ClosedFormELBO._negative_elbo
    monkeypatch.setattr(ClosedFormELBO, "_negative_elbo",
                        lambda self, *args: wrong(self, *args) + 1.0)  # a planted error
    vae = small_vae()
    x = binary()
    objective = CheckedTrace_ELBO(max_plate_nesting=1)
    with pytest.warns(ClosedFormWarning, match="closed form gave"):
        assert_as_trace_elbo(objective, vae, x)
    assert_as_trace_elbo(objective, vae, x)
    assert objective.closed_calls == 0 and "closed form gave" in objective.closed_reason


def test_the_compiled_flag_of_the_class_is_checked():
    with pytest.raises(TypeError, match="compiled"):
        CheckedTrace_ELBO(max_plate_nesting=1, compiled="yes")


def test_an_older_torch_trains_uncompiled_saying_why(float64, monkeypatch):
    monkeypatch.setattr(closed_form, "COMPILE_ISOLATES", False)
    vae = small_vae(objective={"name": "elbo", "compile": True})
    x = binary()
    objective = vae.objective()
    with pytest.warns(ClosedFormWarning, match=r"isolate_recompiles came in torch 2\.13"):
        assert_as_trace_elbo(objective, vae, x)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ClosedFormWarning)  # said once
        assert_as_trace_elbo(objective, vae, x)
    assert not objective.closed_form.compiled and objective.closed_calls == 2
