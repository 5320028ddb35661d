"""Declarative configs: a TOML file or a dict that names the data, the model and the training.

A config has three tables, each one-to-one with the Python API::

    [data]                      # pvae.data.<name>(...) and how the pixels are treated
    name = "mnist"              # "digits" (embedded) or "mnist"
    root = "../shared/data/mnist"
    transform = "dynamic_binarization"   # "none", "binarize", "dequantize"
    validation = 1000           # test rows scored after every epoch (0: none)

    [model]                     # pvae.VAE(x_shape=[784], z_dim=16, prior="vamp", ...)
    name = "vae"
    x_shape = [784]
    z_dim = 16
    prior = "vamp"
    likelihood = { name = "gaussian", scale = "per_dim" }

    [train]                     # pvae.fit(model, data, epochs=10, batch_size=128, ...)
    epochs = 10
    batch_size = 128
    lr = 1e-3
    compile = true              # the VAE's objective = {name = "elbo", compile = true}

A built model writes itself back as a spec (:func:`pvae.registry.spec_of`), so
``object -> spec -> object`` round-trips, and every checkpoint stores its config. An unknown
table, key or name is an error that suggests the closest valid one. The data sets and
transforms that ``[data]`` names are registries in :mod:`pvae.data.prepare`; the
``[train]`` keys are :class:`pvae.train.FitOptions` fields, with its defaults.
"""

from __future__ import annotations

import importlib.util
import inspect
import json
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import tomli_w
import torch

from .data import (
    PreparedData,
    absolute_paths,
    check_image_shape,
    datasets,
    prepare_data,
    transforms,
)
from .models import models
from .registry import UnknownNameError, closest, merge_spec, spec_of
from .shipped import SHIPPED, shipped_configs
from .train import OPTIMIZERS, FitOptions
from .validation import check_nonnegative_int, check_positive_int

__all__ = ["Config", "ConfigError", "load_config", "read_config"]

TABLES = ("data", "model", "train")
#: ``fit`` keywords that a config may not set: they come from the data table or the caller
#: (where to run, ``device``, is the command line's ``--device``)
NOT_FROM_TRAIN = {"transform", "validation", "terms_on", "progress", "resume",
                  "on_epoch_end", "reinitialize", "device"}
#: keys of the train table that are not ``fit`` keywords, with their defaults
TRAIN_EXTRAS = {"checkpoint_every": 1, "tensorboard": False, "compile": False}
#: how deep tables and arrays may nest in a config (pvae's own settings need 4 or 5)
MAX_DEPTH = 32


class ConfigError(UnknownNameError):
    """A config that cannot be read: bad TOML, an unknown table or key, a wrong value."""


def _fit_keys() -> list[str]:
    return [option.name for option in fields(FitOptions) if option.name not in NOT_FROM_TRAIN]


def _check_keys(table: str, given: Mapping[str, Any], accepted: list[str]) -> None:
    for key in given:
        if key not in accepted:
            raise ConfigError(f"[{table}] has no key {key!r}.{closest(str(key), accepted)} "
                              f"Its keys: {', '.join(sorted(accepted))}.")


def _checked(what: str, check: Any, *args: Any) -> Any:
    """``check(*args)``, a ``ValueError`` or ``TypeError`` it raises as a ConfigError."""
    try:
        return check(*args)
    except (ValueError, TypeError) as error:
        raise ConfigError(f"{what}: {error}") from None


#: what a data set's required key looks like, for the error that asks for it
EXAMPLES = {"idx": ' (e.g. root = "data/fashion", a folder of IDX files)',
            "array": ' (e.g. path = "x.npz", a file of arrays)'}


def _check_data(data: dict[str, Any]) -> None:
    name = data.setdefault("name", "digits")
    if name not in datasets:
        _checked("[data]", datasets.check, name)  # unknown: names the closest
    parameters = inspect.signature(datasets.factory(name)).parameters
    _check_keys("data", data, ["name", "transform", "validation", "image_shape", *parameters])
    needed = [key for key, parameter in parameters.items()
              if parameter.default is inspect.Parameter.empty and key not in data]
    if needed:
        example = EXAMPLES.get(name, "")
        raise ConfigError(f"[data] name = {name!r} needs {' and '.join(needed)}{example}")
    _checked("[data] transform", transforms.check, data.get("transform", "none"))
    if "levels" in data and data.get("transform") != "dequantize":
        raise ConfigError("[data] levels is read only by transform = 'dequantize'; leave it "
                          "out, or dequantize")
    validation = data.get("validation", 0)
    try:
        check_nonnegative_int(validation, "validation")
    except ValueError:
        raise ConfigError(f"[data] validation is a number of test rows >= 0; got "
                          f"{validation!r}") from None


def _check_train(train: dict[str, Any]) -> None:
    _check_keys("train", train, [*_fit_keys(), *TRAIN_EXTRAS])
    if isinstance(train.get("optimizer"), Mapping | list):
        raise ConfigError(f"[train] optimizer is a name: {', '.join(OPTIMIZERS)}")
    _checked("[train]", lambda: FitOptions(**{k: v for k, v in train.items()
                                                 if k not in TRAIN_EXTRAS}))
    _checked("[train]", check_positive_int, train.get("checkpoint_every", 1),
             "checkpoint_every")
    tensorboard = train.get("tensorboard", False)
    if not isinstance(tensorboard, bool):
        raise ConfigError(f"[train] tensorboard is true or false; got {tensorboard!r}")
    if tensorboard and importlib.util.find_spec("tensorboard") is None:
        raise ConfigError("[train] tensorboard = true needs the tensorboard package: pip "
                          "install 'pvae[tensorboard]' (or tensorboard), or leave it out")
    if not isinstance(train.get("compile", False), bool):
        raise ConfigError(f"[train] compile is true or false; got {train['compile']!r}")


def _check_tensorboard() -> None:
    """Refuse ``tensorboard = true`` when the package is there but does not import."""
    try:
        from torch.utils import tensorboard  # noqa: F401 - it imports the package
    except Exception as error:  # noqa: BLE001 - a broken install fails in any way
        spec = importlib.util.find_spec("tensorboard")
        where = f" at {Path(spec.origin).parent}" if spec and spec.origin else ""
        reason = " ".join(str(error).split()) or type(error).__name__
        raise ConfigError(f"[train] tensorboard = true, but the tensorboard package{where} is "
                          f"broken: it does not import ({type(error).__name__}: {reason}). "
                          "Reinstall it (pip install --force-reinstall tensorboard), or leave "
                          "tensorboard out") from None


def _too_deep(raw: Mapping[str, Any]) -> str | None:
    """The first table whose tables and arrays nest deeper than :data:`MAX_DEPTH`, if any."""
    for table, value in raw.items():
        stack = [(value, 1)]
        while stack:  # no recursion: a config may be as deep as a hostile file makes it
            item, depth = stack.pop()
            if depth > MAX_DEPTH:
                return str(table)
            if isinstance(item, Mapping):
                stack.extend((inner, depth + 1) for inner in item.values())
            elif isinstance(item, list | tuple):
                stack.extend((inner, depth + 1) for inner in item)
    return None


def _compiled(model: dict[str, Any]) -> dict[str, Any]:
    """The ``[model]`` table with its ``elbo`` objective compiled (``[train] compile``)."""
    if model.get("name") != "vae":
        raise ConfigError(f"[train] compile = true compiles a VAE's ELBO; [model] is "
                          f"{model.get('name')!r}. Leave compile out")
    objective = model.get("objective", "elbo")
    spec = {"name": objective} if isinstance(objective, str) else dict(objective)
    if spec.get("name") != "elbo":
        raise ConfigError(f"[train] compile = true compiles the 'elbo' objective; [model] "
                          f"objective is {spec.get('name')!r}. Leave compile out")
    return {**model, "objective": {**spec, "compile": True}}


def _build(spec: Mapping[str, Any], seed: int | None) -> torch.nn.Module:
    """The model of a ``[model]`` table, its weights drawn from ``seed`` when given."""
    with torch.random.fork_rng(devices=[]):
        if seed is not None:
            torch.manual_seed(seed)
        return _checked("[model]", models.resolve, dict(spec))


@dataclass(frozen=True)
class Config:
    """A checked config: the ``data``, ``model`` and ``train`` tables as plain dicts.

    Build one with :func:`load_config`; ``Config.from_dict(c.to_dict()) == c``.
    """

    data: dict[str, Any] = field(default_factory=lambda: {"name": "digits"})
    model: dict[str, Any] = field(default_factory=dict)
    train: dict[str, Any] = field(default_factory=dict)
    #: the model built while checking, handed out by the first :meth:`build_model`
    _built: list[torch.nn.Module] = field(default_factory=list, compare=False, repr=False)

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any], *, build: bool = True) -> Config:
        """Check every table, key and name.

        With ``build`` (the default) the model is built to check its parts, once: that model
        is what the first :meth:`build_model` returns, its weights drawn from ``[train]
        seed`` when there is one. ``build=False`` checks the ``[model]`` table's name and
        keys only (a checkpoint's config, whose model is built with its weights).
        """
        if not isinstance(raw, Mapping):
            raise ConfigError(f"a config is a table (dict); got {type(raw).__name__}")
        deep = _too_deep(raw)
        if deep is not None:
            raise ConfigError(f"[{deep}] nests tables or arrays more than {MAX_DEPTH} deep; no "
                              "pvae setting is nearly that deep: check the file")
        _check_keys("config", raw, list(TABLES))
        for table in TABLES:
            if table in raw and not isinstance(raw[table], Mapping):
                raise ConfigError(f"[{table}] must be a table; got {raw[table]!r}")
        data = dict(raw.get("data", {"name": "digits"}))
        _check_data(data)
        if "model" not in raw:
            raise ConfigError("a config needs a [model] table, e.g. name = \"vae\", "
                              "x_shape = [64], z_dim = 8")
        train = dict(raw.get("train", {}))
        _check_train(train)
        if train.get("patience") is not None and not data.get("validation"):
            raise ConfigError("[train] patience stops on the validation ELBO: set [data] "
                              "validation = N (test rows scored after every epoch), or leave "
                              "patience out")
        model_spec = dict(raw["model"])
        _checked("[data]", check_image_shape, data, model_spec)
        if train.get("compile"):
            model_spec = _compiled(model_spec)
        if not build:
            _checked("[model]", models.check, model_spec)
            return cls(data=data, model=model_spec, train=train)
        if train.get("tensorboard"):  # before training, not when its first epoch is logged
            _check_tensorboard()
        model = _build(model_spec, train.get("seed"))
        spec = spec_of(model)
        return cls(data=data, model=spec if isinstance(spec, dict) else {"name": spec},
                   train=train, _built=[model])

    def to_dict(self) -> dict[str, Any]:
        """The config as nested dicts (what :meth:`from_dict` reads back)."""
        return json.loads(json.dumps({"data": self.data, "model": self.model,
                                      "train": self.train}))

    def to_toml(self) -> str:
        """The config as TOML text that :func:`load_config` reads back to an equal config."""
        tables = {table: _without_none(getattr(self, table)) for table in TABLES}
        try:
            return tomli_w.dumps(tables)
        except TypeError as error:
            raise ConfigError(f"a config value must be a string, number, boolean, list or "
                              f"table: {error}") from None

    def build_model(self) -> torch.nn.Module:
        """The ``[model]`` table's model: the one built while checking, then fresh ones."""
        if self._built:
            return self._built.pop()
        return _build(self.model, self.train.get("seed"))

    def fit_options(self) -> dict[str, Any]:
        """The ``[train]`` table as ``pvae.fit`` keywords."""
        return {k: v for k, v in self.train.items() if k not in TRAIN_EXTRAS}

    def setting(self, key: str) -> Any:
        """A ``[train]`` key that is not a ``fit`` keyword, or its default."""
        return self.train.get(key, TRAIN_EXTRAS[key])

    def prepare_data(self) -> PreparedData:
        """Load the data set and apply the ``[data]`` table's transform."""
        return prepare_data(self.data, seed=int(self.train.get("seed") or 0))


def config_path(source: str | Path) -> Path:
    """A config file's path: ``source`` itself, or the shipped config of that name."""
    path = Path(source)
    if path.is_file():
        return path
    if path.suffix == "" and path.parent == Path() and (SHIPPED / f"{path}.toml").is_file():
        return SHIPPED / f"{path}.toml"
    names = list(shipped_configs())
    raise FileNotFoundError(f"no config file at {path}, and no shipped config of that name "
                            f"(they are: {', '.join(names)}; `pvae configs` lists them)"
                            + closest(str(source), names))


def read_config(path: str | Path) -> dict[str, Any]:
    """The tables of a TOML config file (or a shipped config, by name), unchecked.

    Raises
    ------
    FileNotFoundError
        When there is no such file and no shipped config of that name.
    ConfigError
        When it is not valid TOML.
    """
    path = config_path(path)
    try:
        return tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path} is not valid TOML: {error}") from None
    except RecursionError:  # tomllib reads nested arrays and inline tables recursively
        raise ConfigError(f"{path} nests arrays or inline tables too deeply to read; a config "
                          f"is at most {MAX_DEPTH} levels deep") from None


def parse_setting(text: str) -> tuple[str, str, Any]:
    """``"train.lr=3e-3"`` as ``("train", "lr", 0.003)``: the value is read as TOML.

    A value that is not TOML (``name=digits``) is taken as a string. A setting is one line:
    a line break (which could smuggle in other keys or tables) is refused.
    """
    if "\n" in text or "\r" in text:
        raise ConfigError(f"--set takes one TABLE.KEY=VALUE on one line; {text!r} holds a line "
                          "break (a value cannot add keys or tables): give each key its own "
                          "--set")
    key, equals, value = text.partition("=")
    table, dot, name = key.strip().partition(".")
    if not equals or not dot or not name or table not in TABLES:
        raise ConfigError(f"--set takes TABLE.KEY=VALUE with TABLE one of {', '.join(TABLES)}, "
                          f"e.g. train.lr=3e-3; got {text!r}")
    try:
        document = tomllib.loads(f"value = {value.strip()}")
    except tomllib.TOMLDecodeError:
        return table, name.strip(), value.strip()
    except RecursionError:
        raise ConfigError(f"--set {key.strip()}: the value nests arrays or inline tables too "
                          f"deeply to read (a config is at most {MAX_DEPTH} levels deep)"
                          ) from None
    if set(document) != {"value"}:  # (one line cannot hold more; refused all the same)
        raise ConfigError(f"--set {key.strip()}: the value {value.strip()!r} adds keys "
                          f"{sorted(set(document) - {'value'})}; give each key its own --set")
    return table, name.strip(), document["value"]


def load_config(source: str | Path | Mapping[str, Any], *,
                train: Mapping[str, Any] | None = None,
                settings: Sequence[str] = ()) -> Config:
    """Read a config from a TOML file, or check a dict, and build its model once.

    ``settings`` are ``TABLE.KEY=VALUE`` overrides (``pvae train --set``, see
    :func:`parse_setting`). ``train`` overrides keys of the ``[train]`` table (what the
    command line's own options set); a table given for ``engine`` is laid over the config's
    engine spec (:func:`pvae.registry.merge_spec`).

    Raises
    ------
    ConfigError
        For unreadable TOML, unknown tables, keys or names (with the closest valid one).
    FileNotFoundError
        When the file does not exist.
    """
    raw = dict(source) if isinstance(source, Mapping) else read_config(source)
    for name, key, value in map(parse_setting, settings):
        raw[name] = {**raw.get(name, {}), key: value}
    if isinstance(raw.get("data"), Mapping):
        raw["data"] = absolute_paths(raw["data"])
    if train:
        table = dict(raw.get("train", {}))
        for key, value in train.items():
            table[key] = (merge_spec(table.get(key, "pvae"), value)
                          if key == "engine" and isinstance(value, Mapping) else value)
        raw["train"] = table
    try:
        return Config.from_dict(raw)
    except ConfigError as error:
        if isinstance(source, Mapping):
            raise
        raise ConfigError(f"{source}: {error}") from None


def _without_none(value: Any) -> Any:
    """``value`` with every ``None`` entry of its tables left out (TOML has no null)."""
    if isinstance(value, Mapping):
        return {k: _without_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_without_none(v) for v in value]
    return value
