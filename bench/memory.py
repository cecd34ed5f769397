"""Memory of a running server across planner jobs and hot reloads.

Publishes ``--n`` synthetic stations into a temporary data folder, starts
``locator serve`` on it (hot reload on, thread job backend), answers a mix of
requests (nearest, OGC items, the whole-dataset GeoJSON and CSV downloads) and
records the idle RSS. Then it runs the fifty mixed planner jobs of
``_jobs.py`` (coverage and suggest, followed through their poll URLs, within a
budget measured in the same run), and publishes ``--reloads`` new versions one
after another, waiting for each to go live and answering the same mix. Prints
the RSS after the jobs and after each reload, the high-water mark, and their
ratios to idle RSS (target: settles within 1.5x).

Usage::

    python bench/memory.py                   # 14,000 stations, 50 jobs, 10 reloads
    python bench/memory.py --n 1000000 --jobs 0 --reloads 10

Memory-heavy: run it alone, once.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from locator.stations import demodata
from locator.storage.files import DataDir

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _jobs import budget_for, run_mixed
from startup import ROOT, SHARE, _free_port, _mem_mb

MIX = ("/api/v1/nearest?lat=34.7466&lon=113.6254&limit=10",
       "/api/v1/nearest?lat=32.13&lon=114.07&limit=50&kind=reading_room",
       "/ogc/collections/stations/items?limit=1000",
       "/api/v1/stations.geojson", "/api/v1/stations.csv")


def _get(base: str, path: str) -> bytes:
    with urllib.request.urlopen(base + path, timeout=600) as resp:
        return bytes(resp.read())


def _parts(pid: int) -> str:
    """Anonymous and file-backed RSS, and how many snapshot folders are still mapped."""
    got = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        k, _, v = line.partition(":")
        if k in ("RssAnon", "RssFile"):
            got[k] = int(v.split()[0]) / 1024
    folders = {line.split()[-1].rsplit("/", 2)[0]
               for line in Path(f"/proc/{pid}/maps").read_text().splitlines()
               if ".snapshots" in line}
    return (f"anon {got['RssAnon']:.0f} MB, file {got['RssFile']:.0f} MB, "
            f"{len(folders)} snapshot(s) mapped")


def _version(base: str) -> str:
    return str(json.loads(_get(base, "/api/v1/health"))["version"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=14_000,
                    help="stations to generate (default: about the demo data's size)")
    ap.add_argument("--jobs", type=int, choices=(0, 50), default=50,
                    help="run the 50 mixed planner jobs before the reloads (0: none)")
    ap.add_argument("--reloads", type=int, default=10, help="versions to publish")
    args = ap.parse_args()
    counts = tuple((k, max(1, round(args.n * s))) for k, s in SHARE.items())
    frame = demodata.generate(ROOT / "data" / "boundaries",
                              options=demodata.DemoOptions(counts=counts))
    with tempfile.TemporaryDirectory(prefix="locator-memory-") as tmp:
        dd = DataDir(Path(tmp) / "var")
        with dd.lock():
            dd.publish(frame, meta={"action": "bench"})
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        env = {**os.environ, "LOCATOR_DATA_DIR": str(dd.root),
               "LOCATOR_DATA_RELOAD_SECONDS": "0.5", "LOCATOR_RATE_LIMIT_ENABLED": "false",
               "LOCATOR_JOBS_MAX_PER_CLIENT": "4", "LOCATOR_JOBS_ABANDON_SECONDS": "10"}
        proc = subprocess.Popen([sys.executable, "-m", "locator", "serve", "--host",
                                 "127.0.0.1", "--port", str(port)],
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            t0 = time.perf_counter()
            while True:
                try:
                    version = _version(base)
                    break
                except OSError:
                    if proc.poll() is not None or time.perf_counter() - t0 > 300:
                        raise RuntimeError("server did not start") from None
                    time.sleep(0.1)
            for path in MIX:
                _get(base, path)
            idle, _ = _mem_mb(proc.pid)
            print(f"{len(frame):,} stations; idle RSS after one request mix: {idle:.0f} MB "
                  f"({_parts(proc.pid)})",
                  flush=True)
            if args.jobs:
                budget, solo = budget_for(port)
                outcome, took = run_mixed(port, budget)
                time.sleep(3)
                rss, hwm = _mem_mb(proc.pid)
                print(f"{solo}; 50 mixed jobs in {took:.0f} s (budget {budget:.0f} s): "
                      f"{outcome}\nafter the jobs: RSS {rss:.0f} MB ({rss / idle:.2f}x idle), "
                      f"high-water {hwm:.0f} MB; {_parts(proc.pid)}", flush=True)
            after = []
            for i in range(args.reloads):
                # A changed version: one station renamed, so the file's hash differs.
                frame.loc[i, "name"] = f"{frame.loc[i, 'name']}·{i}"
                with dd.lock():
                    dd.publish(frame, meta={"action": "bench"})
                t1 = time.perf_counter()
                while _version(base) == version:
                    if time.perf_counter() - t1 > 300:
                        raise RuntimeError("reload did not happen")
                    time.sleep(0.2)
                version = _version(base)
                for path in MIX:
                    _get(base, path)
                rss, hwm = _mem_mb(proc.pid)
                after.append(rss)
                print(f"reload {i + 1:2d}: RSS {rss:.0f} MB ({rss / idle:.2f}x idle), "
                      f"high-water {hwm:.0f} MB; {_parts(proc.pid)}", flush=True)
            time.sleep(3)
            rss, hwm = _mem_mb(proc.pid)
            print(f"\nidle {idle:.0f} MB; after {args.jobs} jobs and {args.reloads} reloads "
                  f"{rss:.0f} MB "
                  f"({rss / idle:.2f}x, target <= 1.5x); high-water {hwm:.0f} MB "
                  f"({hwm / idle:.2f}x)")
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


if __name__ == "__main__":
    main()
