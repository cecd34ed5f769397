"""Publishing a 100,000-row version and loading it back: PostGIS against files.

Builds a synthetic station table (``--rows``, default 100,000), then, in the
same run, publishes it ``--repeat`` times into a files ``DATA_DIR`` and into a
throwaway PostGIS cluster (``tests/servers.py``), each publish changing 1 % of
the rows so that change stamps are computed against a real previous version,
and loads the live version back into a query-ready dataset. Prints medians and
the PostGIS/files ratios. Target: a PostGIS publish of 100,000 rows ≤ 15 s.

    .venv/bin/python bench/storage.py [--rows N] [--repeat R]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from locator.stations import dataset
from locator.storage import base
from tests.servers import postgres_server


def make_frame(rows: int, seed: int = 3) -> gpd.GeoDataFrame:
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


def run(source: base.StationSource, frame: gpd.GeoDataFrame, repeat: int
        ) -> tuple[list[float], list[float]]:
    pubs, loads = [], []
    for i in range(repeat):
        f = frame.copy()
        f.loc[f.index[i::100], "opening_hours"] = f"Mo-Fr 0{i % 9}:00-18:00"
        t = time.perf_counter()
        source.publish(f, meta={"action": "bench"})
        pubs.append(time.perf_counter() - t)
        t = time.perf_counter()
        ds = source.load()
        loads.append(time.perf_counter() - t)
        assert len(ds) == len(frame)
    return pubs, loads


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    frame = make_frame(args.rows)
    results = {}
    with tempfile.TemporaryDirectory(prefix="locator-bench-") as tmp:
        files = base.open_source({"DATA_DIR": tmp, "DATA_PATH": str(Path(tmp) / "none")})
        results["files"] = run(files, frame, args.repeat)
        with postgres_server() as pg:
            if pg is None:
                sys.exit("PostgreSQL is not installed")
            cfg = {"DATA_DIR": tmp, "DATA_PATH": str(Path(tmp) / "none"),
                   "DATABASE_URL": pg.url, "DATABASE_TIMEOUT": 3.0}
            src = base.open_source(cfg)
            src.version()  # migrations run here, outside the timings
            results["postgis"] = run(src, frame, args.repeat)
            getattr(src, "close", lambda: None)()
    med = {k: (statistics.median(p), statistics.median(ld)) for k, (p, ld) in results.items()}
    print(f"{args.rows:,} rows, {args.repeat} publishes each (medians)")
    for k, (p, ld) in med.items():
        print(f"  {k:8s} publish {p:6.2f} s   load {ld:6.2f} s")
    print(f"  postgis/files: publish {med['postgis'][0] / med['files'][0]:.2f}x, "
          f"load {med['postgis'][1] / med['files'][1]:.2f}x")
    print(f"  target: postgis publish <= 15 s: {'met' if med['postgis'][0] <= 15 else 'MISSED'}")


if __name__ == "__main__":
    main()
