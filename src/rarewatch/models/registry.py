"""Model families by name: the modules in rarewatch/models/families/, found by scanning that folder.

`resolve(cfg)` checks the model section against the family's own config class; `family(name)` is the
Detector subclass; `load_detector(directory, trainer)` rebuilds a saved model from its own model.json.
Family modules import torch only inside their methods, so checking a config stays fast.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from rarewatch.config import Config, FamilyConfig, ModelSection, TrainerConfig, validated
from rarewatch.errors import ConfigError
from rarewatch.models import families
from rarewatch.models.base import Detector, read_model_spec

# family() imports these by name; rarewatch.pipeline.closure counts them as imported.
__dynamic_imports__ = ("rarewatch.models.families",)


def family(name: str) -> type[Detector]:
    if name not in families.names():
        raise ConfigError(f"unknown model '{name}'; available: {', '.join(families.names())} (model=<name>)")
    module = importlib.import_module(f"{families.__name__}.{name}")
    cls = getattr(module, "FAMILY", None)
    if not (isinstance(cls, type) and issubclass(cls, Detector)) or cls.name != name:
        raise TypeError(
            f"{module.__name__} must define FAMILY, a Detector subclass with name = '{name}' (see models/base.py)"
        )
    return cls


def resolve_model(section: ModelSection) -> FamilyConfig:
    """The model section checked and typed by its family's config class."""
    cls = family(section.name)
    if isinstance(section, cls.config_class):
        return section
    return validated(cls.config_class, section.model_dump(), prefix="model.")


def resolve(cfg: Config) -> Config:
    """`cfg` with its model section resolved (see resolve_model)."""
    return cfg.model_copy(update={"model": resolve_model(cfg.model)})


def load_detector(directory: Path, trainer: TrainerConfig) -> Detector:
    return family(str(read_model_spec(directory)["family"])).load(directory, trainer)
