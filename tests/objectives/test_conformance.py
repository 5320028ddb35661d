"""CheckedTrace_ELBO is Trace_ELBO on every pair of the catalogue, call by call, in float64.

For every call of every pair, and for each of ``loss``, ``differentiable_loss`` and
``loss_and_grads``: the same random stream gives the same value and every parameter's
gradient to 1e-10, the same error where Trace_ELBO raises and the same warnings where it
warns; a pair the lean path refuses says why once (EagerPathWarning).
"""

import math
import warnings

import pyro
import pytest
import torch
from pyro.infer import Trace_ELBO

from pvae.objectives.default import CheckedTrace_ELBO, EagerPathWarning

from .pyro_pairs import cases

NAMES = [case.name for case in cases()]
METHODS = ("loss_and_grads", "loss", "differentiable_loss")
#: torch's word when Trace_ELBO turns its differentiable loss into a float: not an outcome
TORCH_ITEM = "Converting a tensor with requires_grad=True to a scalar"


pytestmark = pytest.mark.usefixtures("float64")


def parameters():
    return dict(pyro.get_param_store().named_parameters())


def outcome(objective, method, model, guide, args, seed):
    """What one call gives: its value and gradients, or its error; and its warnings."""
    params = parameters()
    for p in params.values():
        p.grad = None
    pyro.set_rng_seed(seed)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            value = getattr(objective, method)(model, guide, *args)
        except Exception as error:  # noqa: BLE001 (what Trace_ELBO raises, lean must raise)
            result = ("error", type(error), str(error).split("\n")[0])
        else:
            params = parameters()  # a first call may have made some
            if (method == "differentiable_loss" and getattr(value, "requires_grad", False)
                    and params):
                grads = torch.autograd.grad(value, list(params.values()), allow_unused=True)
            else:
                grads = [p.grad for p in params.values()]
            number = float(value.detach()) if isinstance(value, torch.Tensor) else value
            result = ("ok", number, dict(zip(params, grads, strict=True)))
    said = [(w.category, str(w.message)) for w in caught
            if w.category is not EagerPathWarning and not str(w.message).startswith(TORCH_ITEM)]
    eager_warnings = [w for w in caught if w.category is EagerPathWarning]
    return result, said, eager_warnings


def assert_same(ours, theirs, where):
    assert ours[0] == theirs[0], f"{where}: lean {ours} but Trace_ELBO {theirs}"
    if ours[0] == "error":
        assert ours[1:] == theirs[1:], where
        return
    assert ours[1] == pytest.approx(theirs[1], rel=1e-10, abs=1e-10) or (
        math.isnan(ours[1]) and math.isnan(theirs[1])), where
    assert ours[2].keys() == theirs[2].keys(), where
    for name, grad in theirs[2].items():
        mine = ours[2][name]
        assert (mine is None) == (grad is None), f"{where}: gradient of {name}"
        if grad is not None:
            torch.testing.assert_close(mine, grad, rtol=1e-10, atol=1e-10, equal_nan=True,
                                       msg=f"{where}: gradient of {name}")


@pytest.mark.parametrize("name", NAMES)
def test_every_call_is_trace_elbos(name):
    case = {case.name: case for case in cases()}[name]
    options = case.options or {}
    reference, lean = Trace_ELBO(**options), CheckedTrace_ELBO(**options)
    pyro.set_rng_seed(0)
    with warnings.catch_warnings():  # parameters (and autoguides) exist before the calls
        warnings.simplefilter("ignore")
        case.guide(*case.calls[0])
    said_why = 0
    for number, args in enumerate(case.calls):
        for method in METHODS:
            seed = 100 * number + METHODS.index(method)
            theirs, their_warnings, _ = outcome(reference, method, case.model, case.guide,
                                                args, seed)
            ours, our_warnings, eager = outcome(lean, method, case.model, case.guide, args,
                                                seed)
            where = f"{name}, call {number}, {method}"
            assert_same(ours, theirs, where)
            assert our_warnings == their_warnings, where
            said_why += len(eager)
    if case.path == "lean":
        assert lean.lean, lean.eager_reason
        assert lean.lean_calls > 0
    if case.path == "eager":
        assert not lean.lean and lean.eager_reason
        assert lean.lean_calls == 0
    assert said_why == (0 if lean.lean else 1), (said_why, lean.eager_reason)
