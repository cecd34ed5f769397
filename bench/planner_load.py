"""Planner load benchmark: the nearest API under planner jobs, and memory after them.

Against a live ``locator serve`` on loopback (demo data, default settings except
as noted), for each job backend (in-process threads; Redis with one
``locator worker``):

1. p50/p99 of ``GET /api/v1/nearest`` while idle, then while twenty concurrent
   ``/api/v1/suggest?n=200`` requests with distinct radii run and poll.
   Target: p99 under load <= 3x idle p99.
2. The web server's RSS when idle, and after 50 mixed planner jobs (30
   coverage, 20 suggest, distinct parameters, see ``_jobs.py``) followed
   through their poll URLs, two in flight: it must settle within 1.5x of idle
   RSS. The high-water mark (VmHWM) is printed too. The jobs' time budget is
   measured in the same run (one coverage and one suggest alone, times 2).

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

sys.path.insert(0, str(ROOT / "bench"))
from _jobs import budget_for, follow, get, run_mixed

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


def probe(port: int, seconds: float, rng: np.random.Generator) -> np.ndarray:
    """Nearest latencies (s), one request after another, for ``seconds``."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    out = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        lat, lon = rng.uniform(32.5, 36.0), rng.uniform(111.0, 116.0)
        t = time.perf_counter()
        status, _ = get(conn, f"/api/v1/nearest?lat={lat:.5f}&lon={lon:.5f}&k=10")
        out.append(time.perf_counter() - t)
        assert status == 200, status
    conn.close()
    return np.asarray(out)


def phase_load(port: int, seconds: float, rng: np.random.Generator) -> tuple[np.ndarray, dict]:
    stop = threading.Event()
    log: list[str] = []
    threads = [threading.Thread(target=follow, daemon=True,
                                args=(port, f"/api/v1/suggest?n=200&radius={800 + 37 * i}",
                                      stop, log)) for i in range(20)]
    for t in threads:
        t.start()
    lat = probe(port, seconds, rng)
    stop.set()
    for t in threads:
        t.join(130)
    return lat, {s: log.count(s) for s in sorted(set(log))}


def run(backend: str, seconds: float, budget: float | None, jobs: int = 50) -> None:
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
        if not jobs:
            return
        if budget is None:
            budget, solo = budget_for(port)
            print(f"[{backend}] {solo}: budget for 50 mixed jobs {budget:.0f} s")
        jobs, took = run_mixed(port, budget)
        time.sleep(3)
        after, hwm = _rss(srv.pid)
        print(f"[{backend}] 50 mixed jobs in {took:.0f} s: {jobs}")
        print(f"[{backend}] web RSS idle {idle_rss:7.1f} MB, after 50 mixed jobs {after:7.1f} MB "
              f"(high-water {hwm:7.1f} MB); after/idle = {after / idle_rss:.2f}x "
              f"(target <= 1.5x); hwm/idle = {hwm / idle_rss:.2f}x")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backend", choices=("threads", "redis", "both"), default="both")
    ap.add_argument("--seconds", type=float, default=20.0, help="length of each probe phase")
    ap.add_argument("--budget", type=float, default=None,
                    help="most seconds the 50 mixed jobs may take (default: twice the "
                         "time estimated from one coverage and one suggest run alone)")
    ap.add_argument("--jobs", type=int, choices=(0, 50), default=50,
                    help="0: only the nearest probe (bench/memory.py also runs the 50 jobs)")
    a = ap.parse_args()
    for backend in ("threads", "redis") if a.backend == "both" else (a.backend,):
        run(backend, a.seconds, a.budget, a.jobs)


if __name__ == "__main__":
    main()
