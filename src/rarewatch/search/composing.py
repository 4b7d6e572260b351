"""conf/ composed for the search: the same composition as rarewatch.composition, plus the group options.

One Hydra initialisation serves every composition of a run (a study composes each trial's folds, and
the checks compose dozens of probe samples). `Composed.choices` says which option each config group got
(`model: pca`), which is what the written experiment file states as `override /model: pca`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from rarewatch.config import Config, config_from_dict


@dataclass(frozen=True)
class Composed:
    params: dict[str, Any]  # what params.yaml would hold
    choices: dict[str, str | None]  # config group -> option, Hydra's own groups left out


class Composer:
    """`with Composer(conf_dir) as c: c.compose([...])`; Hydra's global state lives inside the block."""

    def __init__(self, conf_dir: Path) -> None:
        self.conf_dir = conf_dir.resolve()
        self._context: Any = None

    def __enter__(self) -> Composer:
        from hydra import initialize_config_dir

        self._context = initialize_config_dir(str(self.conf_dir), version_base=None)
        self._context.__enter__()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._context.__exit__(exc_type, exc, tb)
        self._context = None

    def compose(self, overrides: list[str]) -> Composed:
        """Raises hydra's own errors for overrides that do not compose (callers word them)."""
        from hydra import compose
        from omegaconf import OmegaConf, open_dict

        if self._context is None:
            raise RuntimeError("Composer.compose outside its `with` block")
        cfg = compose(config_name="config", overrides=overrides, return_hydra_config=True)
        choices = OmegaConf.to_container(cfg.hydra.runtime.choices)
        assert isinstance(choices, dict)
        with open_dict(cfg):
            del cfg["hydra"]  # as rarewatch.composition.compose, which never asks for it
        OmegaConf.resolve(cfg)
        params = OmegaConf.to_container(cfg)
        assert isinstance(params, dict)
        groups = {str(k): v for k, v in choices.items() if not str(k).startswith("hydra/")}
        return Composed(params={str(k): v for k, v in params.items()}, choices=groups)


def typed(params: dict[str, Any], source: str) -> Config:
    """The checked config, its model section resolved by its family (what every stage would see)."""
    from rarewatch.models.registry import resolve

    return resolve(config_from_dict(params, source=source))


def is_group(conf_dir: Path, key: str) -> bool:
    """A config group is a folder of conf/ (`model`, `features`): its values are option names."""
    return "." not in key and (conf_dir / key).is_dir()


def group_options(conf_dir: Path, group: str) -> list[str]:
    return sorted(p.stem for p in (conf_dir / group).glob("*.yaml"))
