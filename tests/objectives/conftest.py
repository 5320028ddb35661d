import pytest
import torch


@pytest.fixture
def float64():
    """Torch's default dtype float64 for the test: equality to 1e-10 needs it."""
    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(before)
