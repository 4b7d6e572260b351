"""Compose conf/ into a plain dict, exactly as DVC's Hydra integration composes params.yaml.

`python -m rarewatch.composition [overrides...]` rewrites params.yaml, for `dvc repro` users who
edit conf/ rather than running `dvc exp run` (which recomposes it by itself).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any


def _conf_dir() -> Path:
    """The default Hydra config: conf/ of a checkout, or the copy an installed wheel ships as rarewatch/conf.

    A checkout (and an editable install) has conf/ beside src/; a wheel has no checkout, so setup.py
    packs conf/ into the package. Users of a wheel point Hydra at their own config with --config-dir.
    """
    packaged = Path(__file__).resolve().parent / "conf"
    if (packaged / "config.yaml").is_file():
        return packaged
    return Path(__file__).resolve().parents[2] / "conf"


CONF_DIR = _conf_dir()


def compose(overrides: list[str] | None = None, conf_dir: Path = CONF_DIR) -> dict[str, Any]:
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from omegaconf import OmegaConf

    with initialize_config_dir(str(conf_dir.resolve()), version_base=None):
        cfg = hydra_compose(config_name="config", overrides=overrides or [])
    OmegaConf.resolve(cfg)
    return OmegaConf.to_container(cfg)


def compose_yaml(overrides: list[str] | None = None, conf_dir: Path = CONF_DIR) -> str:
    from omegaconf import OmegaConf

    return OmegaConf.to_yaml(OmegaConf.create(compose(overrides, conf_dir)))


def main() -> None:
    Path("params.yaml").write_text(compose_yaml(sys.argv[1:]), encoding="utf-8")
    print("params.yaml recomposed from conf/" + (f" with {' '.join(sys.argv[1:])}" if sys.argv[1:] else ""))


if __name__ == "__main__":
    main()
