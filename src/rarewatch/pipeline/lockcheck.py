"""Check that `dvc repro` reproduced the committed dvc.lock, wall-clock files aside.

    python -m rarewatch.pipeline.lockcheck [--against REV]   # default: HEAD

Every stage output but the timings file is a function of the code, the params and the data, so a
fresh clone's `dvc repro` must give the committed hashes; a difference means a result that does not
reproduce (or a dvc.lock committed before the last code change). Exit 1 names every difference.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from rarewatch.pipeline.spec import VOLATILE

# Stage-level keys that DVC writes and the check compares (cmd, params, and the file hashes).
FILE_LISTS = ("deps", "outs")


def _entries(lock: dict[str, Any]) -> dict[tuple[str, str, str], Any]:
    """(stage, kind, path) -> recorded hash (or the params block), volatile files left out."""
    out: dict[tuple[str, str, str], Any] = {}
    for stage, entry in (lock.get("stages") or {}).items():
        out[(stage, "cmd", "")] = entry.get("cmd")
        for file, values in (entry.get("params") or {}).items():
            out[(stage, "params", file)] = values
        for kind in FILE_LISTS:
            for item in entry.get(kind) or []:
                if item["path"] not in VOLATILE:
                    out[(stage, kind, item["path"])] = {k: v for k, v in item.items() if k != "path"}
    return out


def differences(committed: dict[str, Any], current: dict[str, Any]) -> list[str]:
    a, b = _entries(committed), _entries(current)
    lines = []
    for key in sorted(set(a) | set(b)):
        if a.get(key) != b.get(key):
            stage, kind, path = key
            lines.append(f"{stage}: {kind} {path}".rstrip() + f": committed {a.get(key)!r}, now {b.get(key)!r}")
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m rarewatch.pipeline.lockcheck", description=__doc__.split("\n")[0])
    parser.add_argument("--against", default="HEAD", help="git revision holding the committed dvc.lock")
    parser.add_argument("--lock", default="dvc.lock")
    args = parser.parse_args(argv)
    shown = subprocess.run(["git", "show", f"{args.against}:dvc.lock"], capture_output=True, text=True)
    if shown.returncode != 0:
        print(f"lockcheck: cannot read dvc.lock at {args.against}: {shown.stderr.strip()}", file=sys.stderr)
        sys.exit(2)
    diff = differences(yaml.safe_load(shown.stdout), yaml.safe_load(Path(args.lock).read_text()))
    if diff:
        print(
            f"lockcheck: dvc repro did not reproduce dvc.lock at {args.against} ({len(diff)} differences):",
            file=sys.stderr,
        )
        print("\n".join(diff[:50]), file=sys.stderr)
        sys.exit(1)
    print(f"lockcheck: dvc.lock reproduced exactly (apart from {', '.join(sorted(VOLATILE))})")


if __name__ == "__main__":
    main()
