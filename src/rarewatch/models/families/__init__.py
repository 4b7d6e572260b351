"""Model families: one module per family, each paired with conf/model/<name>.yaml.

A family module defines its config (a `rarewatch.config.FamilyConfig` subclass) and one
`rarewatch.models.base.Detector` subclass, and names it `FAMILY`. Adding a family is one module here
plus one yaml file; `names()` lists the modules without importing them.
"""

from __future__ import annotations

import pkgutil


def names() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))
