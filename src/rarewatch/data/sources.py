"""Where raw rows come from: the synthetic generator, a local CSV/Parquet file, or a URL with a sha256."""

from __future__ import annotations

import hashlib
import urllib.request
from pathlib import Path

import pandas as pd

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


def fetch_url(url: str, sha256: str, target: Path) -> Path:
    """Download once into `target`; a cached or fresh file must match the expected sha256."""
    if target.is_file() and file_sha256(target) == sha256.lower():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.part")
    try:
        with urllib.request.urlopen(url, timeout=60) as response, tmp.open("wb") as out:
            while block := response.read(1 << 20):
                out.write(block)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise DataError(f"cannot download data.url='{url}': {exc}; download it by hand and use source=file") from exc
    got = file_sha256(tmp)
    if got != sha256.lower():
        tmp.unlink()
        raise DataError(
            f"data.url='{url}' has sha256 {got}, expected data.sha256={sha256}; the file changed upstream "
            "or the checksum in the config is wrong"
        )
    tmp.replace(target)
    return target
