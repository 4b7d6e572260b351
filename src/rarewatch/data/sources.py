"""Where raw rows come from: the synthetic generator, a local CSV/Parquet file, or a URL with a sha256."""

from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.parse
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from rarewatch.config import URL_SCHEMES, DataConfig, check_url, data_dir, resolve_data_path
from rarewatch.data import formats
from rarewatch.errors import DataError

GLOB_CHARS = "*?["


def is_glob(path: str | Path) -> bool:
    return any(c in str(path) for c in GLOB_CHARS)


def expand(path: Path) -> list[Path]:
    """The files a data path names: itself, or every file a glob matches (sorted by name)."""
    if not is_glob(path):
        return [path]
    if is_glob(path.parent):
        raise DataError(f"data.path '{path}': only the file name may hold wildcards (*, ?, [...]), not its folders")
    files = sorted(p for p in path.parent.glob(path.name) if p.is_file())
    if not files:
        raise DataError(f"data.path '{path}' matches no file; check the folder and the pattern")
    return files


def input_files(data: DataConfig, project: Path) -> list[tuple[str, Path]]:
    """(config key, absolute path) of every local file the data config names (a glob's matches one by one;
    a URL source's data.path is its download cache, not an input)."""
    keys = ("path", "companion_path", "test_path") if data.source == "file" else ("companion_path", "test_path")
    out = []
    for key in keys:
        value = getattr(data, key)
        if value is None:
            continue
        path = resolve_data_path(data, value, project)
        if key == "path" and is_glob(path):
            out += [(f"data.{key}", f) for f in expand(path)]
        else:
            out.append((f"data.{key}", path))
    return out


def missing_file_message(data: DataConfig, key: str, path: Path, project: Path) -> str:
    """The config key, its value, the path it resolved to, where relative paths start, and where to get it."""
    where = (
        f"the data directory {data_dir(project)} (set RAREWATCH_DATA to change it)"
        if data.root == "data_dir"
        else f"the project directory {project.resolve()}"
    )
    value = getattr(data, key.removeprefix("data."))
    problem = "is a folder, not a file" if path.is_dir() else "not found"
    text = f"{key}='{value}' {problem}: no file '{path}' (relative paths are taken from {where})"
    if data.origin:
        text += f"; get it from {data.origin}"
    return text + f"; set {key} to the file, see docs/datasets.md"


def require_files(data: DataConfig, project: Path) -> list[tuple[str, Path]]:
    """input_files, each of which must exist (the same message from validate, ingest and sweep jobs)."""
    files = input_files(data, project)
    for key, path in files:
        if not path.is_file():
            raise DataError(missing_file_message(data, key, path, project))
    return files


def read_table(
    path: Path, fmt: str, companion: Path | None = None, separator: str | None = None, key: str = "data.path"
) -> pd.DataFrame:
    """The table at `path` (the file of config key `key`); every failure names the key, the path and the fix."""
    if not path.is_file():
        raise DataError(f"{key}: data file '{path}' not found; set {key} to an existing file")
    if companion is not None and not companion.is_file():
        raise DataError(f"data.companion_path '{companion}' not found; set it to the format's second file")
    if path.stat().st_size == 0:
        raise DataError(
            f"data file '{path}' is empty (0 bytes); point {key} at a CSV or Parquet file with a header and data rows"
        )
    try:
        df = formats.read(path, fmt, companion, separator)
    except (ValueError, OSError, pd.errors.ParserError) as exc:
        if isinstance(exc, DataError):
            raise
        raise DataError(unreadable_message(key, path, fmt, exc)) from exc
    if len(df) == 0:
        raise DataError(
            f"data file '{path}' has a header ({', '.join(map(str, df.columns[:10]))}) but no data rows; "
            f"point {key} at a file with rows"
        )
    return df


def unreadable_message(key: str, path: Path, fmt: str, exc: BaseException) -> str:
    """A file that exists but cannot be read as its format (truncated, another format, not text)."""
    reason = " ".join(str(exc).split())[:300]  # one line, however long the reader's message
    shown = formats.detect(path) if fmt == "auto" else fmt
    return (
        f"{key}: cannot read '{path}' as {shown} ({type(exc).__name__}: {reason}); the file is damaged or not "
        f"{shown}: download or export it again, or set data.format to its real format"
    )


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def check_inside(path: Path, roots: Sequence[Path], key: str) -> Path:
    """`path` resolved (symlinks and `..` followed), which must lie inside one of `roots`."""
    resolved = path.resolve()
    if not any(resolved.is_relative_to(root.resolve()) for root in roots):
        inside = " or ".join(f"'{root.resolve()}'" for root in roots)
        raise DataError(
            f"{key}='{path}' resolves to '{resolved}', outside {inside}; a download is cached inside the project "
            f"or the data directory: set {key} to a path below one of them (no '..')"
        )
    return resolved


class _WebRedirects(urllib.request.HTTPRedirectHandler):
    """Follow redirects to http(s) only: urllib's default also follows one to ftp://."""

    def redirect_request(
        self, req: urllib.request.Request, fp: Any, code: int, msg: str, headers: Any, newurl: str
    ) -> urllib.request.Request | None:
        if urllib.parse.urlsplit(newurl).scheme.lower() not in URL_SCHEMES:
            raise DataError(
                f"data.url='{req.full_url}' redirects to {newurl!r}; only https:// (or http://) is followed"
            )
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def fetch_url(url: str, sha256: str, target: Path, roots: Sequence[Path]) -> Path:
    """Download once into `target`; a cached or fresh file must match the expected sha256.

    `target` must lie inside one of `roots` (the project and data directories). The download goes to a
    temporary file of its own beside `target`, renamed onto it once its sha256 matches, so concurrent
    downloads of the same file (sweep jobs, two projects sharing a data directory) never write into
    each other's file, and a reader sees the old file or the whole new one.
    """
    check_url(url)
    target = check_inside(target, roots, "data.path")
    if target.is_file() and file_sha256(target) == sha256.lower():
        return target
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    except OSError as exc:
        raise DataError(
            f"data.path='{target}': cannot create the download folder or file there ({exc.strerror or exc}); "
            "set data.path to a writable place in the project or the data directory"
        ) from exc
    tmp = Path(name)
    try:
        opener = urllib.request.build_opener(_WebRedirects)
        with os.fdopen(fd, "wb") as out, opener.open(url, timeout=60) as response:
            while block := response.read(1 << 20):
                out.write(block)
        got = file_sha256(tmp)
        if got != sha256.lower():
            raise DataError(
                f"data.url='{url}' has sha256 {got}, expected data.sha256={sha256}; the file changed upstream "
                "or the checksum in the config is wrong"
            )
        os.replace(tmp, target)
    except OSError as exc:
        raise DataError(f"cannot download data.url='{url}': {exc}; download it by hand and use source=file") from exc
    finally:
        tmp.unlink(missing_ok=True)
    return target
