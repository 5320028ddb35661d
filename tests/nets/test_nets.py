import pytest
import torch

from pvae.nets import MLP, Conv, networks


@pytest.mark.parametrize("batch", [(), (5,), (3, 5)], ids=["single", "batch", "particles"])
def test_networks_keep_any_batch_dimensions(batch):
    mlp = MLP(hidden=(16, 8), activation="tanh").build((64,), (2, 3))
    assert mlp(torch.zeros(*batch, 64)).shape == (*batch, 2, 3)
    encoder = Conv().build((784,), (10,))
    decoder = Conv().build((4,), (1, 28, 28))
    assert encoder(torch.zeros(*batch, 784)).shape == (*batch, 10)
    assert decoder(torch.zeros(*batch, 4)).shape == (*batch, 1, 28, 28)


def test_registry_and_errors():
    assert networks.names() == ["conv", "mlp"]
    assert networks.resolve({"name": "mlp", "hidden": [5]}).hidden == (5,)
    with pytest.raises(ValueError, match="positive integers"):
        MLP(hidden=(0,))
    with pytest.raises(ValueError, match="channels must be two"):
        Conv(channels=(1, 2, 3))
