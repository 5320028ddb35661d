"""`pvae sample` and `pvae plot` on data that are not images (issue 41, item 1)."""

import numpy as np
import pytest
from sklearn.datasets import make_moons

from pvae.app.cli import main

CONFIG = """
[data]
name = "array"
path = "{path}"
{extra}

[model]
name = "vae"
x_shape = [{width}]
z_dim = 2
likelihood = {{ name = "gaussian", scale = "per_dim" }}
encoder = {{ name = "mlp", hidden = [16] }}
decoder = {{ name = "mlp", hidden = [16] }}

[train]
epochs = 2
batch_size = 128
lr = 3e-3
seed = 0
"""


def _run(tmp_path, rows, extra=""):
    """Train a tiny VAE on ``rows`` (saved as .npy); return its checkpoint."""
    data = tmp_path / "rows.npy"
    np.save(data, rows.astype(np.float32))
    config = tmp_path / "run.toml"
    config.write_text(CONFIG.format(path=data, width=rows.shape[1], extra=extra))
    out = tmp_path / "run"
    assert main(["train", str(config), "--out", str(out), "--no-progress"]) == 0
    return out / "checkpoint.pt"


def _moons(n=400):
    return make_moons(n, noise=0.08, random_state=0)[0]


def test_two_moons_sample_and_plot_draw_points_against_the_data(tmp_path, capsys):
    checkpoint = _run(tmp_path, _moons())
    shot = tmp_path / "samples.png"
    assert main(["sample", str(checkpoint), "--n", "200", "--out", str(shot),
                 "--no-progress"]) == 0, capsys.readouterr().err
    assert shot.stat().st_size > 0
    assert main(["plot", str(checkpoint), "--out", str(tmp_path / "figs"),
                 "--no-progress"]) == 0, capsys.readouterr().err
    drawn = {path.stem for path in (tmp_path / "figs").glob("*.png")}
    assert {"training_curves", "samples", "reconstructions", "latent_space"} <= drawn


@pytest.mark.parametrize("width", [4, 9])  # a pair plot; per-feature histograms
def test_a_few_or_many_features(tmp_path, width):
    rows = np.random.default_rng(0).normal(size=(300, width))
    checkpoint = _run(tmp_path, rows)
    assert main(["plot", str(checkpoint), "--out", str(tmp_path / "figs"),
                 "--no-progress"]) == 0
    assert (tmp_path / "figs" / "samples.png").is_file()


def test_image_shape_from_the_config_draws_images(tmp_path):
    rows = np.random.default_rng(0).uniform(size=(300, 12))
    checkpoint = _run(tmp_path, rows, extra="image_shape = [3, 4]")
    assert main(["plot", str(checkpoint), "--out", str(tmp_path / "figs"),
                 "--no-progress"]) == 0
    assert (tmp_path / "figs" / "interpolation.png").is_file()


@pytest.mark.parametrize("shape", ["[5, 5]", "[3]", '"wide"', "[0, 12]"])
def test_a_bad_image_shape_is_one_line(tmp_path, capsys, shape):
    data = tmp_path / "rows.npy"
    np.save(data, np.zeros((50, 12), np.float32))
    config = tmp_path / "run.toml"
    config.write_text(CONFIG.format(path=data, width=12, extra=f"image_shape = {shape}"))
    code = main(["train", str(config), "--out", str(tmp_path / "run"), "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2 and "image_shape" in err and len(err.strip().splitlines()) == 1, err
