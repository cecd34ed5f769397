"""Throwaway PostgreSQL/PostGIS and Redis servers for the tests.

Each server runs from Debian's binaries on a free loopback port in its own
temporary directory and is stopped when the test session ends. ``initdb``
refuses to run as root, so when the tests run as root the cluster is created
and started as the ``postgres`` system user.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pg_bindir() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def _wait_port(port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.1)
    msg = f"nothing listened on port {port} within {timeout} s"
    raise TimeoutError(msg)


@dataclass
class Postgres:
    """A running cluster: ``url`` for SQLAlchemy, ``stop``/``start`` for fault tests."""

    bindir: Path
    datadir: Path
    port: int
    user: str | None
    # Tests trade durability for speed; a benchmark of commits asks for the defaults.
    durable: bool = False

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/locator"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[bytes]:
        cmd = [str(self.bindir / args[0]), *args[1:]]
        kw: dict = {"check": check, "capture_output": True}
        if self.user:
            entry = pwd.getpwnam(self.user)
            kw["user"], kw["group"] = entry.pw_uid, entry.pw_gid
            kw["cwd"] = "/"
        return subprocess.run(cmd, **kw)

    def start(self) -> None:
        fast = "" if self.durable else \
            " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._run("pg_ctl", "-D", str(self.datadir), "-l", str(self.datadir / "log"),
                  "-o", f"-p {self.port} -k {self.datadir} -c listen_addresses=127.0.0.1"
                  + fast, "-w", "-t", "30", "start")
        _wait_port(self.port, 30)

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.datadir), "-m", "fast", "-w", "stop", check=False)

    def psql(self, sql: str, db: str = "locator") -> str:
        out = self._run("psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                        "-d", db, "-v", "ON_ERROR_STOP=1", "-Atc", sql)
        return out.stdout.decode()


@contextlib.contextmanager
def postgres_server(*, durable: bool = False) -> Iterator[Postgres | None]:
    """A PostGIS-enabled database ``locator``, or None when PostgreSQL is not installed.

    Without ``durable`` the cluster neither flushes nor waits for its commits.
    """
    bindir = _pg_bindir()
    if bindir is None:
        yield None
        return
    user = "postgres" if os.geteuid() == 0 else None
    root = Path(tempfile.mkdtemp(prefix="locator-pg-"))
    datadir = root / "data"
    datadir.mkdir()
    if user:
        entry = pwd.getpwnam(user)
        os.chown(root, entry.pw_uid, entry.pw_gid)
        os.chown(datadir, entry.pw_uid, entry.pw_gid)
    pg = Postgres(bindir, datadir, free_port(), user, durable)
    try:
        pg._run("initdb", "-D", str(datadir), "-U", "postgres", "-A", "trust", "-E", "UTF8",
                "--locale=C.UTF-8")
        pg.start()
        pg.psql("CREATE DATABASE locator", db="postgres")
        pg.psql("CREATE EXTENSION IF NOT EXISTS postgis")
        yield pg
    finally:
        pg.stop()
        shutil.rmtree(root, ignore_errors=True)


@dataclass
class Redis:
    port: int
    proc: subprocess.Popen[bytes] | None
    workdir: Path

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait_port(self.port, 15)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)
            self.proc = None


@contextlib.contextmanager
def redis_server() -> Iterator[Redis | None]:
    """A Redis server with no persistence, or None when redis-server is not installed."""
    if shutil.which("redis-server") is None:
        yield None
        return
    workdir = Path(tempfile.mkdtemp(prefix="locator-redis-"))
    r = Redis(free_port(), None, workdir)
    try:
        r.start()
        yield r
    finally:
        r.stop()
        shutil.rmtree(workdir, ignore_errors=True)
