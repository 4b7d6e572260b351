"""A shared MLflow tracking server on PostgreSQL, on loopback: `python -m rarewatch.tracking_server DIR`.

Starts Debian's PostgreSQL (a cluster in DIR/postgres, created on the first start, password
authentication, on a free port of 127.0.0.1) and `mlflow server` on it, with artifacts served by the
server from DIR/artifacts; prints the tracking URI and runs until Ctrl-C or SIGTERM, then stops both.
Start it again on the same DIR to reopen the same store (on new ports: the URI is printed again).
Point rarewatch at it with `MLFLOW_TRACKING_URI=http://127.0.0.1:<port>` or `tracking.uri=http://127.0.0.1:<port>`.

PostgreSQL refuses to run as root, so as root its cluster belongs to the `postgres` user (Debian's
package creates it) and its programs run through `runuser`. `start` and `stop` are what the tests use.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from rarewatch.errors import ConfigError

PG_USER = "rarewatch"  # the cluster's superuser, owner of the store database
DATABASE = "mlflow"
POSTGRES_ACCOUNT = "postgres"  # who runs PostgreSQL when we are root
STATE_FILE = "server.json"  # the cluster's place and password: what a later start needs to reopen it
START_TIMEOUT = 120.0  # seconds; a fresh store's MLflow migrations take a while on a busy machine


@dataclass(frozen=True)
class Server:
    uri: str  # the tracking URI: http://127.0.0.1:<port>
    backend_uri: str  # postgresql://... (with the password)
    postgres_pid: int
    mlflow_pid: int
    directory: Path


def postgres_bin() -> Path | None:
    """The directory of Debian's PostgreSQL programs (the newest version installed), else one on PATH."""
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name))
    if versions:
        return versions[-1].parent
    found = shutil.which("initdb")
    return Path(found).resolve().parent if found else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_postgres(args: list[str]) -> list[str]:
    return ["runuser", "-u", POSTGRES_ACCOUNT, "--", *args] if os.geteuid() == 0 else args


def _run(args: list[str], what: str, env: dict[str, str] | None = None) -> None:
    proc = subprocess.run(args, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"{what} failed ({proc.returncode}): {' '.join(args)}\n{proc.stdout}\n{proc.stderr}")


def _give_to_postgres(path: Path) -> None:
    if os.geteuid() == 0:
        shutil.chown(path, POSTGRES_ACCOUNT, POSTGRES_ACCOUNT)


def _init_cluster(bin_dir: Path, home: Path, password: str) -> None:
    """A new cluster in home/data whose superuser PG_USER logs in with `password`."""
    home.mkdir(parents=True, exist_ok=True)
    _give_to_postgres(home)
    pwfile = home / "password"
    pwfile.write_text(password + "\n")
    pwfile.chmod(0o600)
    _give_to_postgres(pwfile)
    try:
        _run(
            _as_postgres(
                [
                    str(bin_dir / "initdb"),
                    "-D",
                    str(home / "data"),
                    "-U",
                    PG_USER,
                    f"--pwfile={pwfile}",
                    "--auth-host=scram-sha-256",
                    "--auth-local=scram-sha-256",
                    "-E",
                    "UTF8",
                    "--locale=C",
                ]
            ),
            "initdb",
        )
    finally:
        pwfile.unlink()


def _start_postgres(bin_dir: Path, home: Path, port: int) -> int:
    """The cluster in home/data, listening on 127.0.0.1:`port` only; the postmaster's PID."""
    data = home / "data"
    options = f"-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories={home}"
    _run(
        _as_postgres([str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(home / "postgres.log"), "-o", options, "-w"])
        + ["start"],
        "pg_ctl start",
    )
    return int((data / "postmaster.pid").read_text().splitlines()[0])


def _cluster_home(directory: Path) -> Path:
    """directory/postgres, unless we are root and the postgres account cannot reach it: then one under /tmp.

    (pytest's temporary directories, for one, are 0700 root.) The directory keeps a symlink to it.
    """
    home = directory / "postgres"
    if os.geteuid() != 0:
        return home
    home.mkdir()
    _give_to_postgres(home)
    if subprocess.run(_as_postgres(["test", "-w", str(home)])).returncode == 0:
        return home
    home.rmdir()
    outside = Path(tempfile.mkdtemp(prefix="rarewatch-postgres-"))
    outside.chmod(0o755)
    home.symlink_to(outside / "cluster")
    return outside / "cluster"


def _wait_healthy(uri: str, pid: int, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if not alive(pid):
            raise RuntimeError(f"mlflow server exited while starting; its log:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{uri}/health", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.5)
    raise RuntimeError(
        f"mlflow server at {uri} not healthy after {START_TIMEOUT:.0f} s; its log:\n{log.read_text()[-3000:]}"
    )


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A child of ours that exited but was not reaped yet is a zombie: as good as gone.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def start(directory: Path) -> Server:
    """PostgreSQL and `mlflow server` on loopback, storing in `directory`: a new store, or the one a
    previous start left there (its state in directory/server.json)."""
    bin_dir = postgres_bin()
    if bin_dir is None:
        raise ConfigError("PostgreSQL is not installed: apt-get install -y postgresql (Debian), then start again")
    directory = directory.resolve()
    state_file = directory / STATE_FILE
    pg_port, port = free_port(), free_port()
    if state_file.is_file():
        state = json.loads(state_file.read_text())
        password, pg_home = state["password"], Path(state["postgres"])
        if not (pg_home / "data" / "PG_VERSION").is_file():
            raise ConfigError(
                f"the tracking server's database ({pg_home}) is gone; start a server in a new directory "
                f"instead of '{directory}'"
            )
        postgres_pid = _start_postgres(bin_dir, pg_home, pg_port)
    else:
        if directory.exists() and any(directory.iterdir()):
            raise ConfigError(
                f"'{directory}' is not empty and holds no tracking server: give the server a new directory"
            )
        directory.mkdir(parents=True, exist_ok=True)
        password = secrets.token_urlsafe(18)
        pg_home = _cluster_home(directory)
        _init_cluster(bin_dir, pg_home, password)
        postgres_pid = _start_postgres(bin_dir, pg_home, pg_port)
        env = {**os.environ, "PGPASSWORD": password}
        try:
            _run(
                [str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(pg_port), "-U", PG_USER, DATABASE],
                "createdb",
                env=env,
            )
        except BaseException:
            _stop(postgres_pid, signal.SIGINT, group=False, timeout=30.0)
            raise
        # Written last: a directory with this file holds a complete store. The password stays private.
        state_file.touch(mode=0o600)
        state_file.write_text(json.dumps({"password": password, "postgres": str(pg_home)}))
    # The driver named: newer SQLAlchemy defaults to psycopg 3, and the pinned one is psycopg2-binary.
    backend_uri = f"postgresql+psycopg2://{PG_USER}:{password}@127.0.0.1:{pg_port}/{DATABASE}"
    artifacts = directory / "artifacts"
    artifacts.mkdir(exist_ok=True)
    log = directory / "mlflow-server.log"  # of this start only
    mlflow = Path(sys.executable).parent / "mlflow"
    env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true", "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
    with log.open("w") as out:
        server = subprocess.Popen(
            [
                str(mlflow),
                "server",
                "--backend-store-uri",
                backend_uri,
                "--serve-artifacts",
                "--artifacts-destination",
                str(artifacts),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                "1",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,  # its own process group, stopped as one (stop)
        )
    uri = f"http://127.0.0.1:{port}"
    result = Server(uri, backend_uri, postgres_pid, server.pid, directory)
    try:
        _wait_healthy(uri, server.pid, log)
    except BaseException:
        stop(result)
        raise
    return result


def stop(server: Server, timeout: float = 30.0) -> None:
    """Stop the MLflow server (its process group, SIGTERM) and PostgreSQL (SIGINT: fast shutdown), by PID."""
    _stop(server.mlflow_pid, signal.SIGTERM, group=True, timeout=timeout)
    _stop(server.postgres_pid, signal.SIGINT, group=False, timeout=timeout)


def _stop(pid: int, signum: int, group: bool, timeout: float) -> None:
    try:
        if group:
            os.killpg(pid, signum)
        else:
            os.kill(pid, signum)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while alive(pid) and time.monotonic() < deadline:
        # Reap our own child (the MLflow server), so that it does not linger as a zombie; PostgreSQL's
        # postmaster is pg_ctl's child, not ours (ChildProcessError), and exits by itself.
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        time.sleep(0.2)
    if alive(pid):
        os.kill(pid, signal.SIGKILL)


class _Stopped(Exception):
    pass


def _on_signal(signum: int, frame: object) -> None:
    raise _Stopped(signal.Signals(signum).name)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m rarewatch.tracking_server", description=__doc__.splitlines()[0])
    parser.add_argument(
        "directory", type=Path, help="where the database and the artifacts live (new, or one an earlier start used)"
    )
    args = parser.parse_args(argv)
    server = start(args.directory)
    print(
        f"MLflow tracking server on PostgreSQL: {server.uri} (postgres PID {server.postgres_pid}, mlflow PID "
        f"{server.mlflow_pid}); data in {server.directory}",
        flush=True,
    )
    print(f"export MLFLOW_TRACKING_URI={server.uri}   # or rarewatch-sweep ... tracking.uri={server.uri}", flush=True)
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    try:
        while True:
            time.sleep(3600)
    except _Stopped:
        pass
    finally:
        stop(server)
        print("stopped the MLflow server and PostgreSQL", flush=True)


if __name__ == "__main__":
    main()
