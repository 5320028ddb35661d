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

A built model writes itself back as a spec (:func:`pvae.registry.spec_of`), so
``object -> spec -> object`` round-trips, and every checkpoint stores its config. An unknown
table, key or name is an error that suggests the closest valid one.
"""

from __future__ import annotations

import inspect
import json
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import torch

from .data import Split, binarize, dequantize, digits, dynamic_binarization, mnist
from .infer import fit
from .models import models
from .registry import Registry, UnknownNameError, closest, spec_of

__all__ = ["Config", "ConfigError", "PreparedData", "load_config"]

TABLES = ("data", "model", "train")
TRANSFORMS = ("none", "dynamic_binarization", "binarize", "dequantize")
#: grey levels of each data set, for dequantization
LEVELS = {"digits": 17, "mnist": 256}
#: ``fit`` keywords that a config may not set: they come from the data table or the caller
NOT_FROM_TRAIN = {"pair", "data", "transform", "validation", "progress", "resume",
                  "on_epoch_end", "reinitialize"}
#: keys of the train table that are not ``fit`` keywords
TRAIN_EXTRAS = {"checkpoint_every": 1}

datasets = Registry("data set", Split)
datasets.register("digits")(lambda: digits())
datasets.register("mnist")(lambda root=None: mnist(root))


class ConfigError(UnknownNameError):
    """A config that cannot be read: bad TOML, an unknown table or key, a wrong value."""


def _fit_keys() -> list[str]:
    return [name for name in inspect.signature(fit).parameters if name not in NOT_FROM_TRAIN]


def _check_keys(table: str, given: Mapping[str, Any], accepted: list[str]) -> None:
    for key in given:
        if key not in accepted:
            raise ConfigError(f"[{table}] has no key {key!r}.{closest(key, accepted)} "
                              f"Its keys: {', '.join(sorted(accepted))}.")


class PreparedData(NamedTuple):
    """The data a config names, ready for ``fit`` and for scoring.

    ``train`` is what ``fit`` sees (with ``transform`` applied to every minibatch); ``test``
    is the held-out set in the space the model scores (binarized once with a fixed seed, or
    dequantized), ``validation`` its first rows, or ``None``.
    """

    train: torch.Tensor
    test: torch.Tensor
    train_labels: torch.Tensor
    test_labels: torch.Tensor
    transform: Callable[[torch.Tensor], torch.Tensor] | None
    validation: torch.Tensor | None


@dataclass(frozen=True)
class Config:
    """A checked config: the ``data``, ``model`` and ``train`` tables as plain dicts.

    Build one with :func:`load_config`; ``Config.from_dict(c.to_dict()) == c``.
    """

    data: dict[str, Any] = field(default_factory=lambda: {"name": "digits"})
    model: dict[str, Any] = field(default_factory=dict)
    train: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Config:
        """Check every table, key and name; build the model once to check its parts."""
        if not isinstance(raw, Mapping):
            raise ConfigError(f"a config is a table (dict); got {type(raw).__name__}")
        _check_keys("config", raw, list(TABLES))
        for table in TABLES:
            if table in raw and not isinstance(raw[table], Mapping):
                raise ConfigError(f"[{table}] must be a table; got {raw[table]!r}")
        data = dict(raw.get("data", {"name": "digits"}))
        name = data.get("name", "digits")
        if name not in datasets:
            raise ConfigError(f"unknown data set {name!r}.{closest(str(name), datasets.names())}"
                              f" Known: {', '.join(datasets.names())}.")
        loader_keys = [p for p in inspect.signature(datasets.factory(name)).parameters]
        _check_keys("data", data, ["name", "transform", "validation", *loader_keys])
        transform = data.get("transform", "none")
        if transform not in TRANSFORMS:
            raise ConfigError(f"[data] transform {transform!r} is unknown."
                              f"{closest(str(transform), list(TRANSFORMS))} "
                              f"Choose one of: {', '.join(TRANSFORMS)}.")
        validation = data.get("validation", 0)
        if isinstance(validation, bool) or not isinstance(validation, int) or validation < 0:
            raise ConfigError(f"[data] validation is a number of test rows >= 0; "
                              f"got {validation!r}")
        if "model" not in raw:
            raise ConfigError("a config needs a [model] table, e.g. name = \"vae\", "
                              "x_shape = [64], z_dim = 8")
        model_spec = dict(raw["model"])
        try:
            model = spec_of(models.resolve(model_spec))
        except TypeError as error:  # a missing or wrong argument of the model's constructor
            raise ConfigError(f"[model]: {error}") from None
        train = dict(raw.get("train", {}))
        _check_keys("train", train, [*_fit_keys(), *TRAIN_EXTRAS])
        return cls(data=data, model=model if isinstance(model, dict) else {"name": model},
                   train=train)

    def to_dict(self) -> dict[str, Any]:
        """The config as nested dicts (what :meth:`from_dict` reads back)."""
        return json.loads(json.dumps({"data": self.data, "model": self.model,
                                      "train": self.train}))

    def to_toml(self) -> str:
        """The config as TOML text that :func:`load_config` reads back to an equal config."""
        lines: list[str] = []
        for table in TABLES:
            lines.append(f"[{table}]")
            lines.extend(f"{_key(k)} = {_toml_value(v)}"
                         for k, v in getattr(self, table).items() if v is not None)
            lines.append("")
        return "\n".join(lines)

    def build_model(self) -> torch.nn.Module:
        """A fresh model from the ``[model]`` table."""
        return models.resolve(self.model)

    def fit_options(self) -> dict[str, Any]:
        """The ``[train]`` table as ``pvae.fit`` keywords."""
        return {k: v for k, v in self.train.items() if k not in TRAIN_EXTRAS}

    def setting(self, key: str) -> Any:
        """A ``[train]`` key that is not a ``fit`` keyword, or its default."""
        return self.train.get(key, TRAIN_EXTRAS[key])

    def prepare_data(self) -> PreparedData:
        """Load the data set and apply the ``[data]`` table's transform."""
        options = {k: v for k, v in self.data.items() if k not in ("transform", "validation")}
        split: Split = datasets.resolve(options)
        train, test = split.train, split.test
        transform: Callable[[torch.Tensor], torch.Tensor] | None = None
        kind = self.data.get("transform", "none")
        seed = int(self.train.get("seed") or 0)
        if kind == "dynamic_binarization":
            transform = dynamic_binarization
            test = binarize(test, "static", seed=seed)
        elif kind == "binarize":
            train, test = binarize(train, "static", seed), binarize(test, "static", seed + 1)
        elif kind == "dequantize":
            levels = LEVELS[self.data.get("name", "digits")]
            train, test = dequantize(train, levels, seed), dequantize(test, levels, seed + 1)
        rows = self.data.get("validation", 0)
        return PreparedData(train, test, split.train_labels, split.test_labels, transform,
                            test[:rows] if rows else None)


def load_config(source: str | Path | Mapping[str, Any]) -> Config:
    """Read a config from a TOML file, or check a dict.

    Raises
    ------
    ConfigError
        For unreadable TOML, unknown tables, keys or names (with the closest valid one).
    FileNotFoundError
        When the file does not exist.
    """
    if isinstance(source, Mapping):
        return Config.from_dict(source)
    path = Path(source)
    if not path.is_file():
        raise FileNotFoundError(f"no config file at {path}")
    try:
        raw = tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path} is not valid TOML: {error}") from None
    try:
        return Config.from_dict(raw)
    except ConfigError as error:
        raise ConfigError(f"{path}: {error}") from None


_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _key(key: str) -> str:
    return key if _BARE_KEY.match(key) else json.dumps(key)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a TOML basic string
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{_key(k)} = {_toml_value(v)}"
                                for k, v in value.items() if v is not None) + " }"
    raise ConfigError(f"a config value must be a string, number, boolean, list or table; "
                      f"got {type(value).__name__}")
