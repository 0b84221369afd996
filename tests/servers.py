"""Real PostgreSQL, MariaDB and Redis servers for the tests: Debian's binaries, loopback, free ports.

Each server starts once per session in a temporary folder and stops at the end. A missing binary
skips the tests that need it on a developer's machine and fails them in CI (``CI=true``), where
``.ci/run`` installs the packages.
"""
from __future__ import annotations

import contextlib
import dataclasses
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

STARTUP_SECONDS = 60


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _binary(*candidates: str) -> str:
    for candidate in candidates:
        found = shutil.which(candidate) or next(iter(sorted(glob.glob(candidate), reverse=True)), None)
        if found and os.access(found, os.X_OK):
            return found
    reason = f"server binary not found: {candidates[0]} (Debian packages: see .ci/run)"
    if os.environ.get("CI") == "true":
        pytest.fail(reason + "; CI must have it", pytrace=False)
    pytest.skip(reason)


def _wait(ready: Callable[[], object], process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            ready()
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def _stop(process: subprocess.Popen | None, how: signal.Signals) -> None:
    if process is None or process.poll() is not None:
        return
    process.send_signal(how)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _unprivileged() -> dict:
    """Popen arguments that drop root, for servers that refuse to run as root."""
    if os.geteuid() != 0:
        return {}
    nobody = pwd.getpwnam("nobody")
    return {"user": nobody.pw_uid, "group": nobody.pw_gid, "extra_groups": []}


@dataclasses.dataclass
class Server:
    name: str
    host: str
    port: int
    root: Path
    start: Callable[[], subprocess.Popen]
    ready: Callable[[], object]
    log: Path
    process: subprocess.Popen | None = None
    # PostgreSQL's SIGTERM waits for every client to leave; its SIGINT ends them (a "fast" shutdown).
    stop_signal: signal.Signals = signal.SIGTERM

    def run(self) -> None:
        self.process = self.start()
        _wait(self.ready, self.process, self.log)

    def stop(self) -> None:
        _stop(self.process, self.stop_signal)

    def restart(self) -> None:
        self.stop()
        self.run()


@dataclasses.dataclass
class Postgres(Server):
    user: str = "postgres"
    database: str = "postgres"

    def dsn(self, **extra: str) -> str:
        parts = {"host": self.host, "port": str(self.port), "user": self.user, "dbname": self.database, **extra}
        return " ".join(f"{key}={value}" for key, value in parts.items())

    def connections(self, application_name: str) -> int:
        """How many connections the server accepted for this application name (its own log says)."""
        needle = f"application_name={application_name}"
        return sum(
            1
            for line in self.log.read_text(errors="replace").splitlines()
            if "connection authorized" in line and line.rstrip().endswith(needle)
        )


@dataclasses.dataclass
class MariaDB(Server):
    user: str = "root"
    password: str = ""


@dataclasses.dataclass
class Redis(Server):
    pass


@contextlib.contextmanager
def _serving(server: Server) -> Iterator[Server]:
    try:
        server.run()
        yield server
    finally:
        server.stop()


def _postgres(root: Path) -> Postgres:
    initdb = _binary("/usr/lib/postgresql/*/bin/initdb", "initdb")
    postgres = str(Path(initdb).with_name("postgres"))
    data, log = root / "data", root / "server.log"
    root.mkdir(parents=True, exist_ok=True)
    drop = _unprivileged()
    if drop:
        os.chown(root, drop["user"], drop["group"])
    subprocess.run(
        [initdb, "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync", "--no-instructions"],
        check=True,
        capture_output=True,
        **drop,
    )
    port = _free_port()

    def start() -> subprocess.Popen:
        handle = open(log, "ab")  # noqa: SIM115 - the server writes to it until it stops
        if drop:
            os.chown(log, drop["user"], drop["group"])
        return subprocess.Popen(
            [
                postgres, "-D", str(data), "-p", str(port), "-k", str(root),
                "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "log_connections=on",
                "-c", "logging_collector=off", "-c", "shared_buffers=16MB",
            ],
            stdout=handle,
            stderr=subprocess.STDOUT,
            **drop,
        )

    def ready() -> None:
        import psycopg2

        psycopg2.connect(host="127.0.0.1", port=port, user="postgres", dbname="postgres", application_name="ready").close()

    return Postgres("postgresql", "127.0.0.1", port, root, start, ready, log, stop_signal=signal.SIGINT)


def _mariadb(root: Path) -> MariaDB:
    mariadbd = _binary("mariadbd", "/usr/sbin/mariadbd", "mysqld", "/usr/sbin/mysqld")
    install = _binary("mariadb-install-db", "mysql_install_db")
    data, log = root / "data", root / "server.log"
    root.mkdir(parents=True, exist_ok=True)
    user = pwd.getpwuid(os.geteuid()).pw_name
    subprocess.run(
        [
            install, "--no-defaults", f"--datadir={data}", f"--user={user}", "--auth-root-authentication-method=normal",
            "--skip-test-db", "--skip-name-resolve",
        ],
        check=True,
        capture_output=True,
    )
    port = _free_port()

    def start() -> subprocess.Popen:
        return subprocess.Popen(
            [
                mariadbd, "--no-defaults", f"--datadir={data}", f"--port={port}", "--bind-address=127.0.0.1",
                f"--socket={root / 'mysqld.sock'}", f"--pid-file={root / 'mysqld.pid'}", f"--log-error={log}",
                # root may run mariadbd only when it says so
                f"--user={user}", "--skip-name-resolve", "--skip-log-bin", "--innodb-buffer-pool-size=16M",
                "--innodb-flush-log-at-trx-commit=0", "--performance-schema=OFF",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def ready() -> None:
        import pymysql

        pymysql.connect(host="127.0.0.1", port=port, user="root", password="").close()

    return MariaDB("mariadb", "127.0.0.1", port, root, start, ready, log)


def _redis(root: Path) -> Redis:
    binary = _binary("redis-server", "/usr/bin/redis-server")
    root.mkdir(parents=True, exist_ok=True)
    log = root / "server.log"
    port = _free_port()

    def start() -> subprocess.Popen:
        return subprocess.Popen(
            [
                binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                "--dir", str(root), "--daemonize", "no", "--logfile", str(log),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def ready() -> None:
        import redis

        client = redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=1)
        client.ping()
        client.close()

    return Redis("redis", "127.0.0.1", port, root, start, ready, log)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[Postgres]:
    # Not under pytest's own temporary folder: that one is private to root, and PostgreSQL is not root.
    root = Path(tempfile.mkdtemp(prefix="lambda-rewriter-postgres-"))
    try:
        with _serving(_postgres(root)) as server:
            yield server
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def mariadb_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MariaDB]:
    with _serving(_mariadb(tmp_path_factory.mktemp("mariadb"))) as server:
        yield server


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Redis]:
    with _serving(_redis(tmp_path_factory.mktemp("redis"))) as server:
        yield server
