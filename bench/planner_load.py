"""Planner load benchmark: the nearest API under planner jobs, and memory after them.

Against a live ``locator serve`` on loopback (demo data, default settings except
as noted), for each job backend (in-process threads; Redis with one
``locator worker``):

1. p50/p99 of ``GET /api/v1/nearest`` while idle, then while twenty concurrent
   ``/api/v1/suggest?n=200`` requests with distinct radii run and poll.
   Target: p99 under load <= 3x idle p99.
2. The web server's RSS when idle, and after 50 mixed planner jobs (coverage
   and suggest, distinct parameters): it must settle within 1.5x of idle RSS.
   The high-water mark (VmHWM) is printed too.

Rate limiting is off and the per-client job bound raised to 20 here, so that all
twenty planner requests really are accepted from one loopback client (with the
defaults, eighteen of them would get 429). Abandoned jobs are cancelled after
5 s so the run ends promptly.

Run: ``.venv/bin/python bench/planner_load.py`` (``--backend threads|redis``,
``--seconds`` for the length of each probe phase).
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.servers import redis_server

DEMO = ROOT / "data" / "stations" / "demo_stations.gpkg"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_http(port: int, timeout: float) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        with contextlib.suppress(OSError):
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", "/api/v1/health")
            if c.getresponse().status == 200:
                return
        time.sleep(0.3)
    msg = "server did not come up"
    raise RuntimeError(msg)


def _rss(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) of ``pid`` in MB."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0]) / 1024
    return out["VmRSS"], out["VmHWM"]


@contextlib.contextmanager
def live_server(backend: str, tmp: Path) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    port = _free_port()
    env = {**os.environ, "LOCATOR_DATA_PATH": str(DEMO), "LOCATOR_DATA_DIR": str(tmp),
           "LOCATOR_RATE_LIMIT_ENABLED": "false", "LOCATOR_JOBS_MAX_PER_CLIENT": "20",
           "LOCATOR_JOBS_MAX_QUEUED": "20", "LOCATOR_JOBS_ABANDON_SECONDS": "5"}
    procs: list[subprocess.Popen[bytes]] = []
    with contextlib.ExitStack() as stack:
        if backend == "redis":
            r = stack.enter_context(redis_server())
            if r is None:
                msg = "redis-server is not installed"
                raise RuntimeError(msg)
            env["LOCATOR_JOBS_URL"] = r.url
            procs.append(subprocess.Popen([sys.executable, "-m", "locator", "worker"],
                                          cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                          stderr=subprocess.DEVNULL))
        server = subprocess.Popen([sys.executable, "-m", "locator", "serve", "--port",
                                   str(port)], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        procs.append(server)
        try:
            _wait_http(port, 90)
            yield port, server
        finally:
            for p in reversed(procs):
                p.terminate()
                try:
                    p.wait(20)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait(10)


def _get(conn: http.client.HTTPConnection, path: str) -> tuple[int, dict]:
    conn.request("GET", path)
    r = conn.getresponse()
    body = r.read()
    try:
        return r.status, json.loads(body)
    except ValueError:
        return r.status, {}


def probe(port: int, seconds: float, rng: np.random.Generator) -> np.ndarray:
    """Nearest latencies (s), one request after another, for ``seconds``."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    out = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        lat, lon = rng.uniform(32.5, 36.0), rng.uniform(111.0, 116.0)
        t = time.perf_counter()
        status, _ = _get(conn, f"/api/v1/nearest?lat={lat:.5f}&lon={lon:.5f}&k=10")
        out.append(time.perf_counter() - t)
        assert status == 200, status
    conn.close()
    return np.asarray(out)


def planner_client(port: int, path: str, stop: threading.Event, log: list[str]) -> None:
    """Ask for one plan and poll it until it is final or the phase ends."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    status, body = _get(conn, path)
    while status == 429 and not stop.is_set():
        # The queue is full; retry sooner than Retry-After so the run stays short.
        time.sleep(2.0)
        status, body = _get(conn, path)
    while status == 202 and not stop.is_set():
        time.sleep(1.0)
        status, body = _get(conn, body["poll"])
    log.append("running" if status == 202 else str(status))
    conn.close()


def phase_load(port: int, seconds: float, rng: np.random.Generator) -> tuple[np.ndarray, dict]:
    stop = threading.Event()
    log: list[str] = []
    threads = [threading.Thread(target=planner_client, daemon=True,
                                args=(port, f"/api/v1/suggest?n=200&radius={800 + 37 * i}",
                                      stop, log)) for i in range(20)]
    for t in threads:
        t.start()
    lat = probe(port, seconds, rng)
    stop.set()
    for t in threads:
        t.join(130)
    return lat, {s: log.count(s) for s in sorted(set(log))}


def fifty_jobs(port: int, budget: float) -> dict:
    """50 mixed planner jobs, at most 4 in flight, polled to the end (or the budget)."""
    paths = [f"/api/v1/coverage?radius={600 + 53 * i}" for i in range(35)]
    paths += [f"/api/v1/suggest?n={5 + i}&radius={900 + 71 * i}" for i in range(15)]
    stop = threading.Event()
    log: list[str] = []
    sem = threading.Semaphore(4)

    def one(path: str) -> None:
        with sem:
            if not stop.is_set():
                planner_client(port, path, stop, log)

    threads = [threading.Thread(target=one, args=(p,), daemon=True) for p in paths]
    for t in threads:
        t.start()
    end = time.monotonic() + budget
    for t in threads:
        t.join(max(0.0, end - time.monotonic()))
    stop.set()
    for t in threads:
        t.join(130)
    return {s: log.count(s) for s in sorted(set(log))}


def run(backend: str, seconds: float, budget: float) -> None:
    rng = np.random.default_rng(7)
    with tempfile.TemporaryDirectory() as tmp, live_server(backend, Path(tmp)) as (port, srv):
        probe(port, 2, rng)  # warm up
        idle = probe(port, seconds, rng)
        idle_rss, _ = _rss(srv.pid)
        loaded, outcome = phase_load(port, seconds, rng)
        p50_i, p99_i = np.percentile(idle, [50, 99])
        p50_l, p99_l = np.percentile(loaded, [50, 99])
        print(f"[{backend}] nearest idle:   n={len(idle):5d} p50 {p50_i * 1e3:7.1f} ms  "
              f"p99 {p99_i * 1e3:7.1f} ms")
        print(f"[{backend}] nearest loaded: n={len(loaded):5d} p50 {p50_l * 1e3:7.1f} ms  "
              f"p99 {p99_l * 1e3:7.1f} ms   (20 suggest n=200: {outcome})")
        print(f"[{backend}] p99 loaded/idle = {p99_l / p99_i:.2f}x  (target <= 3x)  "
              f"p50 ratio {p50_l / p50_i:.2f}x")
        time.sleep(6)  # leftovers are abandoned and cancelled
        jobs = fifty_jobs(port, budget)
        time.sleep(3)
        after, hwm = _rss(srv.pid)
        print(f"[{backend}] web RSS idle {idle_rss:7.1f} MB, after 50 mixed jobs {after:7.1f} MB "
              f"(high-water {hwm:7.1f} MB); after/idle = {after / idle_rss:.2f}x "
              f"(target <= 1.5x); hwm/idle = {hwm / idle_rss:.2f}x; jobs: {jobs}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backend", choices=("threads", "redis", "both"), default="both")
    ap.add_argument("--seconds", type=float, default=20.0, help="length of each probe phase")
    ap.add_argument("--budget", type=float, default=150.0,
                    help="most seconds the 50 mixed jobs may take")
    a = ap.parse_args()
    for backend in ("threads", "redis") if a.backend == "both" else (a.backend,):
        run(backend, a.seconds, a.budget)


if __name__ == "__main__":
    main()
