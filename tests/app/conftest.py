import pytest

TINY = """
[data]
name = "digits"
transform = "dynamic_binarization"
validation = 50

[model]
name = "vae"
x_shape = [64]
z_dim = 2
encoder = { name = "mlp", hidden = [16] }
decoder = { name = "mlp", hidden = [16] }

[train]
epochs = 2
batch_size = 256
lr = 3e-3
seed = 0
"""


@pytest.fixture
def config(tmp_path):
    path = tmp_path / "tiny.toml"
    path.write_text(TINY)
    return path
