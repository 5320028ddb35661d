import random

import numpy as np
import pyro
import pytest
import torch

from pvae.train.e_step import forget_checked_closed_forms


@pytest.fixture(autouse=True)
def fresh_pyro():
    """Every test starts seeded, with an empty param store and validation on.

    It also forgets which closed-form E-steps EM has checked, so that each test proves its own.
    """
    forget_checked_closed_forms()
    pyro.set_rng_seed(0)
    random.seed(0)
    pyro.clear_param_store()
    pyro.enable_validation(True)
    yield
    pyro.clear_param_store()


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


@pytest.fixture(params=[torch.float32, torch.float64], ids=["float32", "float64"])
def dtype(request):
    """Run a model test in both precisions: float64 catches tensors that ignore their inputs."""
    return request.param


@pytest.fixture
def float64():
    """Torch's default dtype float64 for the test: equality to 1e-10 needs it."""
    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(before)
