"""The import closure of a module inside the rarewatch package: every source file it can run.

Imports are read from the source (ast), at any depth: top level, inside functions (the lazy torch
imports), and under `if TYPE_CHECKING` (conservative: such a file cannot change a result, but listing
it costs nothing). Importing `a.b.c` also runs `a/__init__.py` and `a/b/__init__.py`.

A module that imports by name at run time (importlib) declares what it may import in a module-level
`__dynamic_imports__ = ("some.package",)`; every module of those packages joins the closure. A test
checks that no module calls importlib without declaring it.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = "rarewatch"
SOURCE_ROOT = Path(__file__).resolve().parents[2]  # the directory holding the rarewatch package


def module_file(name: str, root: Path = SOURCE_ROOT) -> Path | None:
    """The source file of module `name` (a package's __init__.py), or None if it is not one of ours."""
    base = root.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _package_inits(name: str, root: Path) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def imported_modules(name: str, root: Path = SOURCE_ROOT) -> set[str]:
    """The modules of our package that module `name` imports directly (statically or declared dynamic)."""
    path = module_file(name, root)
    if path is None:
        raise ValueError(f"module {name!r} not found under {root}")
    tree = ast.parse(path.read_text(), filename=str(path))
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node, name, is_package)
            found.add(base)
            # `from pkg import mod` imports the module pkg.mod; `from mod import func` only mod.
            found.update(f"{base}.{alias.name}" for alias in node.names)
    for package in _dynamic_imports(tree):
        found.add(package)
        found.update(_package_modules(package, root))
    return {m for m in found if m.split(".")[0] == PACKAGE and module_file(m, root) is not None}


def closure(names: list[str] | tuple[str, ...], root: Path = SOURCE_ROOT) -> set[Path]:
    """Source files of `names` and everything they import, transitively, with their package __init__s."""
    seen: set[str] = set()
    todo = list(names)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        todo.extend(_package_inits(name, root))
        todo.extend(imported_modules(name, root) - seen)
    files = {module_file(m, root) for m in seen}
    return {f for f in files if f is not None}


def uses_importlib(path: Path) -> bool:
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(a.name == "importlib" for a in node.names):
            return True
        if isinstance(node, ast.ImportFrom) and node.module == "importlib":
            return True
    return False


def declares_dynamic_imports(path: Path) -> bool:
    return bool(_dynamic_imports(ast.parse(path.read_text(), filename=str(path))))


def _absolute(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    if node.level == 0:
        return node.module or ""
    parts = module.split(".")
    # In a package's __init__, `.` is the package itself; in a module, its parent package.
    keep = len(parts) - node.level + (1 if is_package else 0)
    base = ".".join(parts[:keep])
    return f"{base}.{node.module}" if node.module else base


def _dynamic_imports(tree: ast.Module) -> list[str]:
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__dynamic_imports__" for t in node.targets
        ):
            value = ast.literal_eval(node.value)
            return [str(v) for v in value]
    return []


def _package_modules(package: str, root: Path) -> list[str]:
    folder = root.joinpath(*package.split("."))
    return sorted(f"{package}.{p.stem}" for p in folder.glob("*.py") if p.stem != "__init__")
