"""The wheel ships the default Hydra config: conf/ (beside src/, where DVC's Hydra integration reads it)
becomes the package data directory rarewatch/conf, which rarewatch.composition.CONF_DIR finds when
rarewatch runs from an installed wheel rather than from a checkout. Everything else is in pyproject.toml.
"""

from pathlib import Path

from setuptools import find_packages, setup

# Each config group (conf/model, conf/data, ...) is listed as a package of YAML files under rarewatch.conf.
CONF_GROUPS = sorted(p.name for p in Path(__file__).resolve().parent.joinpath("conf").iterdir() if p.is_dir())
CONF_PACKAGES = ["rarewatch.conf", *(f"rarewatch.conf.{group}" for group in CONF_GROUPS)]

setup(
    packages=[*find_packages("src"), *CONF_PACKAGES],
    package_dir={"": "src", "rarewatch.conf": "conf"},
    package_data={name: ["*.yaml"] for name in CONF_PACKAGES},
)
