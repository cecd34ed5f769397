"""Publishing a 100,000-row version and loading it back: PostGIS against files.

Builds a synthetic station table (``--rows``, default 100,000), then, in the
same run, publishes it ``--repeat`` times into a files ``DATA_DIR`` and into a
throwaway PostGIS cluster (``tests/servers.py``), each publish changing 1 % of
the rows so that change stamps are computed against a real previous version,
and loads the live version back into a query-ready dataset. Prints medians of
wall time and of CPU time (this process plus the PostgreSQL server's), and the
PostGIS/files ratios. Target: a PostGIS publish of 100,000 rows ≤ 15 s.

``--against DIR`` also runs the same measurements on the code of another
checkout (say, the main branch), alternating the two ``--rounds`` times so that
both see the same machine load, and prints this checkout's figures over
that baseline's. CPU time is the steadier figure on a busy machine.

    .venv/bin/python bench/storage.py [--rows N] [--repeat R] [--against DIR [--rounds K]]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parents[1]


def make_frame(rows: int, seed: int = 3) -> Any:
    import geopandas as gpd
    import numpy as np
    import pandas as pd

    from locator.stations import dataset

    rng = np.random.default_rng(seed)
    kinds = np.array(["rest_station", "driver_home", "reading_room"])
    frame = pd.DataFrame({
        "id": [f"b{i:07d}" for i in range(rows)],
        "kind": kinds[rng.integers(0, 3, rows)],
        "name": [f"驿站{i}" for i in range(rows)],
        "address": "河南省郑州市",
        "opening_hours": "Mo-Su 08:00-18:00",
        "amenities": "drinking_water;seating",
        "status": "open", "verified_at": "2026-01-01", "source": "bench"})
    geom = gpd.points_from_xy(rng.uniform(110.4, 116.6, rows), rng.uniform(31.4, 36.4, rows))
    return dataset.normalise(gpd.GeoDataFrame(frame, geometry=geom, crs="EPSG:4326"))


def server_cpu(datadir: Path | None) -> float:
    """CPU seconds used so far by the PostgreSQL server's processes (0 without one)."""
    if datadir is None:
        return 0.0
    try:
        master = int((datadir / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0.0
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == master or int(proc.name) == master:
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def run(source: Any, frame: Any, repeat: int, datadir: Path | None) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {"publish": [], "publish_cpu": [], "load": [], "load_cpu": []}
    for i in range(repeat):
        f = frame.copy()
        f.loc[f.index[i::100], "opening_hours"] = f"Mo-Fr 0{i % 9}:00-18:00"
        for what, call in (("publish", lambda f=f: source.publish(f, meta={"action": "bench"})),
                           ("load", source.load)):
            cpu, srv, t = time.process_time(), server_cpu(datadir), time.perf_counter()
            got = call()
            out[what].append(time.perf_counter() - t)
            out[what + "_cpu"].append(time.process_time() - cpu + server_cpu(datadir) - srv)
            if what == "load":
                assert len(got) == len(frame)
    return out


def measure(rows: int, repeat: int) -> dict[str, dict[str, list[float]]]:
    from locator.storage import base
    from tests.servers import postgres_server

    frame = make_frame(rows)
    results = {}
    with tempfile.TemporaryDirectory(prefix="locator-bench-") as tmp:
        files = base.open_source({"DATA_DIR": tmp, "DATA_PATH": str(Path(tmp) / "none")})
        results["files"] = run(files, frame, repeat, None)
        with postgres_server() as pg:
            if pg is None:
                sys.exit("PostgreSQL is not installed")
            cfg = {"DATA_DIR": tmp, "DATA_PATH": str(Path(tmp) / "none"),
                   "DATABASE_URL": pg.url, "DATABASE_TIMEOUT": 3.0}
            src = base.open_source(cfg)
            src.version()  # migrations run here, outside the timings
            results["postgis"] = run(src, frame, repeat, pg.datadir)
            getattr(src, "close", lambda: None)()
    return results


def _medians(runs: list[dict[str, dict[str, list[float]]]]) -> dict[str, dict[str, float]]:
    return {b: {k: statistics.median(v for r in runs for v in r[b][k]) for k in runs[0][b]}
            for b in runs[0]}


def _print(title: str, med: dict[str, dict[str, float]]) -> None:
    print(title)
    for b, m in med.items():
        print(f"  {b:8s} publish {m['publish']:6.2f} s (cpu {m['publish_cpu']:6.2f} s)   "
              f"load {m['load']:6.2f} s (cpu {m['load_cpu']:6.2f} s)")
    p, f = med["postgis"], med["files"]
    print(f"  postgis/files: publish {p['publish'] / f['publish']:.2f}x, "
          f"load {p['load'] / f['load']:.2f}x")


def _worker(code: Path, rows: int, repeat: int) -> dict[str, dict[str, list[float]]]:
    env = {**os.environ, "PYTHONPATH": str(code)}
    out = subprocess.run([sys.executable, __file__, "--worker", str(code), "--rows", str(rows),
                          "--repeat", str(repeat)], env=env, cwd=code, check=True,
                         capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--against", type=Path, help="a checkout whose code is the baseline")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker is not None:
        sys.path.insert(0, str(args.worker))
        print(json.dumps(measure(args.rows, args.repeat)))
        return
    sys.path.insert(0, str(HERE))
    print(f"{args.rows:,} rows, {args.repeat} publishes each (medians)")
    if args.against is None:
        med = _medians([measure(args.rows, args.repeat)])
        _print("this checkout", med)
    else:
        mine, theirs = [], []
        for _ in range(args.rounds):
            theirs.append(_worker(args.against.resolve(), args.rows, args.repeat))
            mine.append(_worker(HERE, args.rows, args.repeat))
        med, base = _medians(mine), _medians(theirs)
        _print(f"baseline {args.against}", base)
        _print("this checkout", med)
        for b in med:
            print(f"  {b} this/baseline: publish {med[b]['publish'] / base[b]['publish']:.2f}x "
                  f"(cpu {med[b]['publish_cpu'] / base[b]['publish_cpu']:.2f}x), "
                  f"load {med[b]['load'] / base[b]['load']:.2f}x "
                  f"(cpu {med[b]['load_cpu'] / base[b]['load_cpu']:.2f}x)")
    print(f"  target: postgis publish <= 15 s: "
          f"{'met' if med['postgis']['publish'] <= 15 else 'MISSED'}")


if __name__ == "__main__":
    main()
