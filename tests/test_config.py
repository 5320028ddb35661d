import tomllib
from pathlib import Path

import pytest
import torch

import pvae
from pvae.config import Config, ConfigError, load_config
from pvae.models import models
from pvae.registry import UnknownNameError, spec_of

CONFIGS = sorted((Path(__file__).parent.parent / "pvae" / "configs").glob("*.toml"))
SMALL = {"data": {"name": "digits", "transform": "dequantize", "validation": 50},
         "model": {"name": "vae", "x_shape": [64], "z_dim": 3, "prior": {"name": "mog",
                                                                        "components": 4},
                   "likelihood": {"name": "gaussian", "scale": "per_dim"},
                   "encoder": {"name": "mlp", "hidden": [16]}},
         "train": {"epochs": 2, "batch_size": 64, "lr": 1e-3, "seed": 1}}


def test_the_shipped_configs_read_and_build():
    assert len(CONFIGS) >= 6
    for path in CONFIGS:
        config = load_config(path)
        model = config.build_model()
        assert spec_of(model) == config.model
        assert config.data["name"] in ("digits", "mnist")


def test_dict_toml_and_object_round_trip(tmp_path):
    config = load_config(SMALL)
    assert Config.from_dict(config.to_dict()) == config
    path = tmp_path / "c.toml"
    path.write_text(config.to_toml())
    assert load_config(path) == config
    # object -> spec -> object: the rebuilt model is the same model
    vae = config.build_model()
    again = models.resolve(spec_of(vae))
    again.load_state_dict(vae.state_dict())
    x = torch.rand(5, 64)
    assert torch.equal(vae.reconstruct(x), again.reconstruct(x))


def test_a_model_built_in_python_writes_its_own_config():
    vae = pvae.VAE((64,), 2, prior="vamp", guide="flow", beta=0.5)
    spec = spec_of(vae)
    assert spec["prior"] == "vamp" and spec["guide"] == "flow" and spec["beta"] == 0.5
    config = load_config({"model": spec})
    assert spec_of(config.build_model()) == spec
    for model in (pvae.LinearGaussian(5, 2), pvae.GaussianMixture(3, dim=2, covariance="diag"),
                  pvae.Gaussian(dim=2)):
        assert spec_of(models.resolve(spec_of(model))) == spec_of(model)


@pytest.mark.parametrize("change, message", [
    ({"trian": {}}, r"no key 'trian'. Did you mean 'train'"),
    ({"train": {"epoch": 3}}, r"\[train\] has no key 'epoch'. Did you mean 'epochs'"),
    ({"data": {"name": "mnsit"}}, r"unknown data set 'mnsit'. Did you mean 'mnist'"),
    ({"data": {"name": "digits", "rot": "x"}}, r"\[data\] has no key 'rot'"),
    ({"data": {"name": "digits", "transform": "binarise"}}, r"Did you mean 'binarize'"),
    ({"data": {"name": "digits", "validation": -1}}, r"validation is a number"),
    ({"model": {"name": "vea"}}, r"unknown model 'vea'. Did you mean 'vae'"),
    ({"model": {"name": "vae", "x_shape": [64], "z_dim": 2, "prior": "vampp"}},
     r"unknown prior 'vampp'. Did you mean 'vamp'"),
    ({"model": {"name": "vae", "x_shape": [64], "z_dim": 2, "latent": 3}},
     r"no option 'latent'"),
    ({"model": {"name": "vae", "x_shape": [64]}}, r"missing .*z_dim"),
])
def test_unknown_or_wrong_entries_are_named_with_a_suggestion(change, message):
    with pytest.raises(UnknownNameError, match=message):
        load_config({**SMALL, **change})


def test_needs_a_model_table_and_valid_toml(tmp_path):
    with pytest.raises(ConfigError, match=r"needs a \[model\]"):
        load_config({"data": {"name": "digits"}})
    broken = tmp_path / "broken.toml"
    broken.write_text("[model\nname = 'vae'")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(broken)
    with pytest.raises(FileNotFoundError, match="no config file"):
        load_config(tmp_path / "absent.toml")


def test_hand_built_parts_cannot_be_written_to_a_config():
    from pvae.priors.normal import StandardNormal

    vae = pvae.VAE((64,), 2, prior=StandardNormal())
    with pytest.raises(ValueError, match="built by hand"):
        spec_of(vae)


@pytest.mark.parametrize("transform", ["none", "binarize", "dynamic_binarization",
                                       "dequantize"])
def test_prepared_data_follows_the_transform(transform):
    config = load_config({**SMALL, "data": {"name": "digits", "transform": transform,
                                            "validation": 30}})
    data = config.prepare_data()
    assert data.train.shape == (1438, 64) and data.test.shape == (359, 64)
    assert data.validation is not None and torch.equal(data.validation, data.test[:30])
    assert (data.transform is not None) == (transform == "dynamic_binarization")
    if transform in ("binarize", "dynamic_binarization"):
        assert set(data.test.unique().tolist()) <= {0.0, 1.0}
    if transform == "dequantize":
        assert 0 < data.train.min() and data.train.max() < 1
        assert not torch.equal(data.train, pvae.data.digits().train)


def test_a_config_with_any_unicode_reads_back_from_its_toml():
    config = load_config({"data": {"name": "mnist", "root": "/data/😀 x\x7fy\tz"},
                          "model": {"name": "vae", "x_shape": [784], "z_dim": 2}})
    assert tomllib.loads(config.to_toml())["data"]["root"] == "/data/😀 x\x7fy\tz"


def test_patience_without_validation_rows_is_a_config_error():
    with pytest.raises(ConfigError, match=r"set \[data\] validation = N"):
        load_config({"data": {"name": "digits"}, "model": {"name": "gaussian"},
                     "train": {"patience": 3}})


def test_train_compile_compiles_the_vaes_elbo_and_is_refused_elsewhere():
    model = {"name": "vae", "x_shape": [64], "z_dim": 2}
    config = Config.from_dict({"model": model, "train": {"compile": True, "epochs": 1}})
    built = config.build_model()
    assert built.objective().compiled
    assert config.model["objective"] == {"name": "elbo", "compile": True}
    assert "compile" not in config.fit_options()
    assert Config.from_dict(config.to_dict()).model == config.model  # round-trips
    for train, model_change, message in [
            ({"compile": "yes"}, {}, "compile is true or false"),
            ({"compile": True}, {"objective": {"name": "iwae", "k": 3}}, "'iwae'"),
            ({"compile": True}, {"name": "gaussian", "dim": 2}, "compiles a VAE's ELBO")]:
        changed = {**model, **model_change}
        if changed["name"] == "gaussian":
            changed = {"name": "gaussian", "dim": 2}
        with pytest.raises(ConfigError, match=message):
            Config.from_dict({"model": changed, "train": train})


@pytest.mark.parametrize("setting", ["train.lr=1e-3\n[evil]\nx=1", "train.lr=1e-3\r\nseed=2",
                                     "train.lr=1e-3\nepochs=9"])
def test_a_setting_with_a_line_break_is_refused_not_half_read(setting):
    with pytest.raises(ConfigError, match="on one line; .* holds a line break"):
        load_config(SMALL, settings=[setting])


def test_a_setting_still_takes_an_inline_table_and_a_comment():
    from pvae.config import parse_setting

    assert parse_setting('train.engine={ name = "lightning", devices = 2 }') == (
        "train", "engine", {"name": "lightning", "devices": 2})
    assert parse_setting("train.lr = 1e-3  # faster") == ("train", "lr", 1e-3)


@pytest.mark.parametrize(("nested", "message"), [
    ("[model]\nname = 'gaussian'\nx = " + "[" * 5000 + "]" * 5000, "too deeply to read"),
    ("[model]\nname = 'gaussian'\nx = " + "{a=" * 5000 + "1" + "}" * 5000, "too deeply to read"),
    ("[model]\nname = 'gaussian'\n[" + ".".join(["a"] * 5000) + "]\nx = 1",
     r"\[a\] nests tables or arrays more than 32 deep"),
])
def test_a_config_nested_thousands_deep_is_a_config_error(tmp_path, nested, message):
    path = tmp_path / "deep.toml"
    path.write_text(nested)
    with pytest.raises(ConfigError, match=message):
        load_config(path)
    deep: dict = {"name": "gaussian"}
    for _ in range(5000):
        deep = {"a": deep}
    with pytest.raises(ConfigError, match="more than 32 deep"):
        load_config({"model": deep})
    with pytest.raises(ConfigError, match="too deeply to read"):
        load_config(SMALL, settings=["model.x=" + "[" * 5000])


def test_a_tensorboard_that_is_found_but_does_not_import_is_a_config_error(tmp_path,
                                                                          monkeypatch):
    import sys

    broken = tmp_path / "site" / "tensorboard"
    broken.mkdir(parents=True)
    (broken / "__init__.py").write_text("raise ImportError('half installed')\n")
    for name in [name for name in sys.modules if name.startswith("tensorboard")
                 or name.startswith("torch.utils.tensorboard")]:
        monkeypatch.delitem(sys.modules, name)
    # as in a fresh process: an earlier test's import left the submodule on torch.utils
    monkeypatch.delattr(torch.utils, "tensorboard", raising=False)
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    with pytest.raises(ConfigError, match=r"tensorboard package at .*site.tensorboard is "
                                          r"broken: it does not import \(ImportError: half "
                                          r"installed\)\. Reinstall it"):
        load_config({**SMALL, "train": {**SMALL["train"], "tensorboard": True}})
