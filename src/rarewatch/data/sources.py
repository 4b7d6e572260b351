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

from rarewatch.config import URL_SCHEMES, check_url
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


def read_table(path: Path, fmt: str, companion: Path | None = None, separator: str | None = None) -> pd.DataFrame:
    if not path.is_file():
        raise DataError(f"data file '{path}' not found; set data.path to an existing file")
    if companion is not None and not companion.is_file():
        raise DataError(f"data.companion_path '{companion}' not found; set it to the format's second file")
    if path.stat().st_size == 0:
        raise DataError(
            f"data file '{path}' is empty (0 bytes); point data.path at a CSV or Parquet file with a header "
            "and data rows"
        )
    try:
        df = formats.read(path, fmt, companion, separator)
    except (ValueError, OSError, pd.errors.ParserError) as exc:
        if isinstance(exc, DataError):
            raise
        raise DataError(f"cannot read '{path}' as {fmt}: {exc}") from exc
    if len(df) == 0:
        raise DataError(
            f"data file '{path}' has a header ({', '.join(map(str, df.columns[:10]))}) but no data rows; "
            "point data.path at a file with rows"
        )
    return df


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
