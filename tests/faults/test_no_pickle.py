"""No model, encoder or data file is ever unpickled: loading one must not run code from the file.

Models use JSON (encoder, configs), skops with a list of trusted types, and torch weights loaded with
weights_only=True (docs/architecture.md); this test reads the source so a new loader cannot slip in.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOTS = [Path(__file__).resolve().parents[2] / d for d in ("src", "benchmarks", "scripts")]
UNPICKLING_MODULES = {"pickle", "cPickle", "_pickle", "dill", "cloudpickle", "joblib", "shelve", "marshal"}


def _name(node: ast.AST) -> str:
    """'a.b.c' for a Name/Attribute chain, '' otherwise."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _name(node.value)
        return f"{base}.{node.attr}" if base else ""
    return ""


def _keyword(call: ast.Call, name: str) -> ast.AST | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def unsafe_loads(source: str) -> list[str]:
    """Calls in `source` that can unpickle: (line) description."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        name = _name(node.func)
        module, _, attr = name.rpartition(".")
        unpickles = module.split(".")[-1] in UNPICKLING_MODULES and attr in ("load", "loads", "Unpickler", "open")
        if unpickles or attr == "read_pickle":
            found.append(f"{node.lineno}: {name}")
        elif attr == "load" and module.split(".")[-1] in ("np", "numpy"):
            flag = _keyword(node, "allow_pickle")
            if flag is not None and not (isinstance(flag, ast.Constant) and flag.value is False):
                found.append(f"{node.lineno}: {name}(allow_pickle=...)")
        elif name == "torch.load":
            flag = _keyword(node, "weights_only")
            if not (isinstance(flag, ast.Constant) and flag.value is True):
                found.append(f"{node.lineno}: torch.load without weights_only=True")
        elif attr == "load" and module.endswith("skops.io") and _keyword(node, "trusted") is None:
            found.append(f"{node.lineno}: {name} without trusted=")
    return found


def test_the_checker_finds_each_kind_of_unpickling() -> None:
    source = "\n".join(
        [
            "pickle.load(f)",
            "joblib.load('m.joblib')",
            "np.load('x.npy', allow_pickle=True)",
            "pd.read_pickle('x.pkl')",
            "torch.load('w.pt')",
            "skops.io.load('m.skops')",
            "np.load('x.npy')",
            "torch.load('w.pt', weights_only=True)",
            "skops.io.load('m.skops', trusted=['a'])",
        ]
    )
    assert [f.split(":")[0] for f in unsafe_loads(source)] == ["1", "2", "3", "4", "5", "6"]


def test_no_file_is_unpickled() -> None:
    files = sorted(p for root in ROOTS for p in root.rglob("*.py"))
    assert len(files) > 50  # the source was found
    found = {str(f): hits for f in files if (hits := unsafe_loads(f.read_text()))}
    assert found == {}
