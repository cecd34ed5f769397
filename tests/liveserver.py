"""``locator serve`` as a real subprocess on a free loopback port, for tests
that must meet the server the way a client does (sockets, workers, limits)."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.servers import free_port

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Live:
    port: int
    proc: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def get(self, path: str, *, timeout: float = 5.0,
            headers: dict[str, str] | None = None) -> tuple[int, Any, bytes]:
        req = urllib.request.Request(self.url + path, headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return resp.status, resp.headers, resp.read()
        except urllib.error.HTTPError as err:
            return err.code, err.headers, err.read()


def on_cpus(cmd: list[str], cpus: set[int] | None) -> list[str]:
    """``cmd`` confined to ``cpus`` by ``taskset``, every process it starts too; as is without."""
    if not cpus:
        return cmd
    return ["taskset", "--cpu-list", ",".join(map(str, sorted(cpus))), *cmd]


@contextlib.contextmanager
def live_server(*, workers: int = 1, threads: int | None = None, env: dict[str, str] | None = None,
                ready_s: float = 90.0, cpus: set[int] | None = None) -> Iterator[Live]:
    """``locator serve`` on a free port with a data folder of its own, until the block ends.

    ``cpus`` confines the server (and every process it starts) to those CPUs.
    """
    port = free_port()
    tmp = Path(tempfile.mkdtemp(prefix="locator-live-"))
    log = tmp / "server.log"
    full_env = {**os.environ, "LOCATOR_DATA_DIR": str(tmp / "var"), **(env or {})}
    cmd = [sys.executable, "-m", "locator", "serve", "--host", "127.0.0.1", "--port", str(port),
           "--workers", str(workers)]
    if threads is not None:  # otherwise the THREADS setting, as `locator serve` runs by default
        cmd += ["--threads", str(threads)]
    with log.open("wb") as out:
        proc = subprocess.Popen(on_cpus(cmd, cpus), cwd=ROOT, env=full_env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    live = Live(port, proc, log)
    try:
        deadline = time.monotonic() + ready_s
        while True:
            if proc.poll() is not None:
                msg = f"server exited: {log.read_text()[-2000:]}"
                raise RuntimeError(msg)
            with contextlib.suppress(OSError):
                if live.get("/api/v1/health", timeout=2)[0] == 200:
                    break
            if time.monotonic() > deadline:
                msg = f"server not ready: {log.read_text()[-2000:]}"
                raise TimeoutError(msg)
            time.sleep(0.3)
        yield live
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, 15)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait(5)


def raw_exchange(port: int, data: bytes, *, timeout: float = 10.0) -> bytes:
    """Send bytes, then read whatever the server answers until it closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        with contextlib.suppress(OSError):
            s.sendall(data)
        chunks = []
        with contextlib.suppress(OSError):
            while chunk := s.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks)
