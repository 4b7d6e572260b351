"""Model families by name. A family is one module `rarewatch.models.<name>` that defines

- `Config`: a frozen dataclass for `conf/model/<name>.yaml` (with `name` and `train_on` fields);
- `build(config, seed, trainer) -> Detector` and `load(directory, config, trainer) -> Detector`.

Family modules import torch only inside those functions, so stages that just check the config
stay fast. Adding a family needs no change here.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

from rarewatch.errors import ConfigError

_NOT_FAMILIES = {
    "base",
    "torch_detector",
    "registry",
    "nets",
    "batches",
    "training",
    "checks",
    "sequence",
    "lit_base",
    "lit_autoencoder",
    "lit_vae",
    "lit_classifier",
}


def available() -> list[str]:
    import rarewatch.models as pkg

    return sorted(m.name for m in pkgutil.iter_modules(pkg.__path__) if m.name not in _NOT_FAMILIES)


def family(name: str) -> ModuleType:
    if name in _NOT_FAMILIES or name not in available():
        raise ConfigError(f"unknown model '{name}'; available: {', '.join(available())} (model=<name>)")
    return importlib.import_module(f"rarewatch.models.{name}")


def model_config_class(name: str) -> type:
    return family(name).Config
