"""HTTP serving under wrk: nearest against the same app's health route,
2 workers against 1, waitress alone against gunicorn-supervised workers.

Each figure is the median of a few bounded wrk runs against a live
``locator serve`` on loopback, with rate limiting off (it would throttle
the load generator) and the planner's start-up warm-up off (a background job
that would compete with the first route measured). Ratios are measured in the same run.
Beside each figure, the CPU time the server's processes spent per answered request
(from ``/proc``), which wrk's own share of the two cores does not blur.

    .venv/bin/python bench/serving.py [--runs 3] [--seconds 5] [--connections 8]
                                      [--database-url postgresql://...]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.liveserver import live_server

NEAREST = "/api/v1/nearest?lat=34.7536&lon=113.6645&k=10"
HEALTH = "/api/v1/health"
DEMO = ROOT / "data" / "stations" / "demo_stations.gpkg"
_UNIT = {"us": 1e-6, "ms": 1e-3, "s": 1.0}


def _latency(text: str, label: str) -> float:
    m = re.search(rf"^\s*{label}%?\s+([\d.]+)(us|ms|s)\b", text, flags=re.M)
    if not m:
        msg = f"no {label} in wrk output:\n{text}"
        raise RuntimeError(msg)
    return float(m.group(1)) * _UNIT[m.group(2)]


# Workers ask from everywhere: 2,000 fixed pseudo-random points over Henan, in turn,
# so that per-station caches help only as much as they would in real traffic.
VARIED_TEMPLATE = """
local paths = {}
math.randomseed(7)
for i = 1, 2000 do
  local lat = 31.5 + math.random() * 4.8
  local lon = 110.5 + math.random() * 5.9
  paths[i] = string.format("/api/v1/nearest?lat=%.5f&lon=%.5f&TAIL", lat, lon)
end
local n = 0
request = function()
  n = n % #paths + 1
  return wrk.format("GET", paths[n])
end
"""
# The API's default answer (every navigation link), and what the worker page asks
# for (static/js/locator.js: web links only, open stations first, on the default
# Amap tiles' datum).
VARIED = VARIED_TEMPLATE.replace("TAIL", "k=10")
PAGE = VARIED_TEMPLATE.replace(
    "TAIL", "crs=wgs84&out_crs=gcj02&k=10&lang=zh&links=web&order=open_first")




def wrk(url: str, *, seconds: int, connections: int, threads: int = 2,
        script: str | None = None) -> dict[str, float]:
    extra = ["-s", script] if script else []
    done = subprocess.run(["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s",
                           "--latency", "--timeout", "10s", *extra, url],
                          capture_output=True, text=True, timeout=seconds + 30)
    if done.returncode:
        msg = f"wrk failed on {url} ({done.returncode}): {done.stderr or done.stdout}"
        raise RuntimeError(msg)
    out = done.stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    if bad:
        msg = f"{bad.group(1)} failed answers from {url}"
        raise RuntimeError(msg)
    n = float(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    return {"rps": rps, "p50": _latency(out, "50"), "p99": _latency(out, "99"), "n": n}


def server_cpu(pgid: int) -> float:
    """CPU seconds used so far by the live processes of the server's process group."""
    total = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        # The command name may hold spaces: the fields after it are fixed.
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[2]) == pgid:
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def timed_wrk(url: str, args: argparse.Namespace, pgid: int, *, seconds: int,
              script: str | None) -> dict[str, float]:
    """A wrk run, with the server's CPU time per answered request beside it."""
    before = server_cpu(pgid)
    got = wrk(url, seconds=seconds, connections=args.connections, script=script)
    got["cpu"] = (server_cpu(pgid) - before) / got["n"]
    return got


def median_of(url: str, args: argparse.Namespace, pgid: int, script: str | None = None
              ) -> dict[str, float]:
    # The varied points touch about 6,000 stations, whose fixed JSON each worker
    # encodes once: warm up for a few passes over them, as a worker that has been
    # up a while is, and print that first pass's figure beside the steady ones.
    first = timed_wrk(url, args, pgid, seconds=args.warm if script else 1, script=script)
    if script:
        show("(first pass, cold)", first)
    runs = [timed_wrk(url, args, pgid, seconds=args.seconds, script=script)
            for _ in range(args.runs)]
    return {k: statistics.median(r[k] for r in runs) for k in runs[0]}


def measure(workers: int, args: argparse.Namespace, url: str) -> dict[str, dict[str, float]]:
    # The planner's start-up warm-up is a minute of background CPU in each worker; left
    # on, it would load whichever route is measured first, not the steady state.
    env = {"LOCATOR_RATE_LIMIT_ENABLED": "false", "LOCATOR_PLANNER_WARMUP": "false"}
    if url:
        env["LOCATOR_DATABASE_URL"] = url
    with live_server(workers=workers, threads=args.threads, env=env) as live:
        pgid = live.proc.pid
        return {"nearest": median_of(live.url + NEAREST, args, pgid),
                "nearest, varied points": median_of(live.url + "/", args, pgid, args.script),
                "page's nearest, varied": median_of(live.url + "/", args, pgid, args.page),
                "health": median_of(live.url + HEALTH, args, pgid)}


@contextlib.contextmanager
def database(args: argparse.Namespace) -> Iterator[str]:
    """The database to serve from: the given URL, a throwaway PostGIS, or none."""
    if args.database_url or not args.postgis:
        yield args.database_url
        return
    from locator.stations import dataset
    from locator.storage import base
    from tests.servers import postgres_server

    with postgres_server() as pg:
        if pg is None:
            sys.exit("PostgreSQL/PostGIS is not installed")
        with tempfile.TemporaryDirectory(prefix="locator-serving-") as tmp:
            cfg = {"DATA_DIR": tmp, "DATA_PATH": str(DEMO), "DATABASE_URL": pg.url,
                   "DATABASE_TIMEOUT": 30.0}
            src = base.open_source(cfg)
            with src.lock():
                src.publish(dataset.read(DEMO).frame, meta={"action": "bench"})
            yield pg.url


def show(name: str, m: dict[str, float]) -> None:
    print(f"  {name:<24} {m['rps']:9.0f} req/s   p50 {m['p50'] * 1e3:7.2f} ms   "
          f"p99 {m['p99'] * 1e3:7.2f} ms   server CPU {m['cpu'] * 1e6:5.0f} us/req")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--connections", type=int, default=8)
    ap.add_argument("--warm", type=int, default=8,
                    help="seconds of varied points before measuring them")
    ap.add_argument("--threads", type=int, default=4, help="request threads per worker")
    ap.add_argument("--database-url", default="",
                    help="serve from this PostgreSQL/PostGIS instead of the embedded files")
    ap.add_argument("--postgis", action="store_true",
                    help="serve the demo data from a throwaway PostGIS cluster")
    args = ap.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (Debian package wrk)")
    backend = "postgis" if args.database_url or args.postgis else "files"
    print(f"backend {backend}; wrk -c {args.connections}, {args.runs} x {args.seconds} s, "
          f"medians")
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script, \
            tempfile.NamedTemporaryFile("w", suffix=".lua") as page, database(args) as url:
        for f, text in ((script, VARIED), (page, PAGE)):
            f.write(text)
            f.flush()
        args.script, args.page = script.name, page.name
        one = measure(1, args, url)
        two = measure(2, args, url)
    print("waitress, 1 process:")
    for name, m in one.items():
        show(name, m)
    print("gunicorn, 2 workers (waitress in each):")
    for name, m in two.items():
        show(name, m)
    for name in ("nearest, varied points", "page's nearest, varied"):
        v2 = two[name]
        print(f"2 workers, {name} / health: p50 {v2['p50'] / two['health']['p50']:.2f}x, "
              f"throughput {v2['rps'] / two['health']['rps']:.2f}x, "
              f"server CPU per request {v2['cpu'] / two['health']['cpu']:.2f}x")
    n2, h2, n1 = two["nearest"], two["health"], one["nearest"]
    print(f"2 workers, nearest / health: p50 {n2['p50'] / h2['p50']:.2f}x (target <= 1.5x), "
          f"throughput {n2['rps'] / h2['rps']:.2f}x (target >= 0.6x)")
    print(f"nearest throughput, 2 workers / 1 (waitress alone): {n2['rps'] / n1['rps']:.2f}x "
          f"(target >= 1.6x)")
    print(f"health throughput, 2 workers / 1: {h2['rps'] / one['health']['rps']:.2f}x")


if __name__ == "__main__":
    main()
