import pytest
import torch

from pvae.nets import MLP, Conv, networks
from pvae.nets.base import Reshape


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


def test_a_reshape_to_the_same_shape_is_no_operation():
    x = torch.zeros(5, 784, requires_grad=True)
    assert Reshape((784,), (784,))(x) is x
    folded = Reshape((784,), (1, 28, 28))(x)
    assert folded.shape == (5, 1, 28, 28) and Reshape((1, 28, 28), (784,))(folded).shape == (5, 784)


def test_pyro_visible_converts_what_holds_parameters_and_keeps_the_order():
    from pyro.nn import PyroModule  # noqa: PLC0415

    from pvae.nets import pyro_visible  # noqa: PLC0415

    net = MLP(hidden=(16,)).build((64,), (2, 3))
    before = [type(m).__name__ for m in net]
    x = torch.randn(5, 64)
    expected = net(x)
    assert pyro_visible(net) is net
    assert [type(m).__name__.removeprefix("Pyro") for m in net] == before
    assert [isinstance(m, PyroModule) for m in net] == [False, True, False, True, False]
    assert isinstance(net, PyroModule)
    torch.testing.assert_close(net(x), expected)



def test_pyro_visible_keeps_the_order_of_a_child_shared_under_two_names():
    from pvae.nets import pyro_visible  # noqa: PLC0415

    shared = torch.nn.Linear(3, 3)
    net = torch.nn.Sequential(shared, torch.nn.Tanh(), shared)
    x = torch.randn(4, 3)
    expected = net(x)
    pyro_visible(net)
    names = [name for name, _ in net.named_modules(remove_duplicate=False) if name]
    assert names == ["0", "1", "2"] and net[0] is net[2] and type(net[1]) is torch.nn.Tanh
    torch.testing.assert_close(net(x), expected)
