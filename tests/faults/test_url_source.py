"""URL sources: web schemes only, the cache inside the project or data directory, and downloads that
never collide (each its own temporary file beside the target, renamed in once its sha256 matches).

The server is a local http.server on 127.0.0.1, started and stopped by each test.
"""

from __future__ import annotations

import hashlib
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from rarewatch.config import config_from_dict, download_roots
from rarewatch.data import sources
from rarewatch.errors import ConfigError, DataError
from rarewatch.paths import Paths
from rarewatch.stages import validate

BODY = b"time,y,a\n" + b"".join(f"2024-01-01 00:{i:02d},{int(i == 7)},{i * 0.5}\n".encode() for i in range(40))
SHA = hashlib.sha256(BODY).hexdigest()


class Server:
    """A local server for BODY at /data.csv. `overlap`: the first half of each response waits until
    that many requests are under way, so concurrent downloads are certain to overlap."""

    def __init__(self, overlap: int = 1) -> None:
        barrier = threading.Barrier(overlap, timeout=20)
        self.requests = 0

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(handler) -> None:  # noqa: N805 (the handler instance; `self` is the Server)
                self.requests += 1
                if handler.path == "/to-ftp":
                    handler.send_response(302)
                    handler.send_header("Location", "ftp://127.0.0.1/data.csv")
                    handler.end_headers()
                    return
                handler.send_response(200)
                handler.send_header("Content-Length", str(len(BODY)))
                handler.end_headers()
                half = len(BODY) // 2
                handler.wfile.write(BODY[:half])
                handler.wfile.flush()
                barrier.wait()
                handler.wfile.write(BODY[half:])

            def log_message(handler, *args: object) -> None:  # noqa: N805
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> Server:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=10)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    root = tmp_path / "project"
    root.mkdir()
    monkeypatch.chdir(root)
    monkeypatch.setenv("RAREWATCH_DATA", str(tmp_path / "datasets"))
    yield root


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


@pytest.mark.parametrize(
    "url",
    ["file:///etc/passwd", "ftp://example.org/data.csv", "FILE:data.csv", "//example.org/data.csv", "https:///x"],
)
def test_only_web_urls_are_accepted(small_params, url: str) -> None:
    params = small_params(data__url=url)
    with pytest.raises(ConfigError, match=r"data\.url=.* is not an https:// \(or http://\) URL") as exc:
        config_from_dict(params)
    assert "use data.source=file and data.path" in str(exc.value)


def test_https_and_http_urls_are_accepted(small_params) -> None:
    for url in ("https://example.org/a.csv", "HTTP://example.org/a.csv"):
        assert config_from_dict(small_params(data__url=url)).data.url == url


def test_concurrent_downloads_of_one_file_do_not_collide(project: Path) -> None:
    target = project / "downloads" / "data.csv"
    results: list[Path | BaseException] = []

    def download() -> None:
        try:
            results.append(sources.fetch_url(f"{server.url}/data.csv", SHA, target, download_roots(project)))
        except BaseException as exc:  # reported below: a thread's exception is otherwise lost
            results.append(exc)

    with Server(overlap=2) as server:
        threads = [threading.Thread(target=download) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
    assert results == [target, target]
    assert server.requests == 2  # both really downloaded, at the same time (the barrier)
    assert target.read_bytes() == BODY
    assert leftovers(target.parent) == []


def test_a_cached_file_is_not_downloaded_again(project: Path) -> None:
    target = project / "data.csv"
    target.write_bytes(BODY)
    with Server() as server:
        assert sources.fetch_url(f"{server.url}/data.csv", SHA, target, download_roots(project)) == target
    assert server.requests == 0


def test_a_wrong_checksum_leaves_neither_file_nor_temporary(project: Path) -> None:
    target = project / "data.csv"
    with Server() as server, pytest.raises(DataError, match=r"has sha256 [0-9a-f]{64}, expected data\.sha256=0+;"):
        sources.fetch_url(f"{server.url}/data.csv", "0" * 64, target, download_roots(project))
    assert not target.exists()
    assert leftovers(project) == []


def test_a_redirect_to_ftp_is_not_followed(project: Path) -> None:
    target = project / "data.csv"
    with Server() as server, pytest.raises(DataError, match=r"redirects to 'ftp://127\.0\.0\.1/data\.csv'"):
        sources.fetch_url(f"{server.url}/to-ftp", SHA, target, download_roots(project))
    assert not target.exists() and leftovers(project) == []


@pytest.mark.parametrize("where", ["../outside/data.csv", "/tmp/rarewatch-elsewhere/data.csv"])
def test_the_download_target_stays_inside_the_project(project: Path, small_config, where: str) -> None:
    data = {
        "source": "url",
        "url": "https://example.org/data.csv",
        "sha256": SHA,
        "path": where,
        "synthetic": None,
        "time_column": "time",
        "label_column": "y",
    }
    cfg = small_config(**{f"data__{k}": v for k, v in data.items()}, data__categorical_columns=[])
    # The validate stage refuses it before anything runs, with the key and the fix.
    with pytest.raises(DataError, match=r"data\.path='.*data\.csv' resolves to '.*', outside '.*project'") as exc:
        validate.run(cfg, project)
    assert "set data.path to a path below one of them (no '..')" in str(exc.value)
    # So does the download itself, whoever calls it.
    with pytest.raises(DataError, match=r"outside"):
        sources.fetch_url(cfg.data.url, SHA, project / where, download_roots(project))
    assert not (project.parent / "outside").exists()
    assert not Path("/tmp/rarewatch-elsewhere").exists()
    assert Paths(project).validated.exists() is False
