"""How long a station edit takes, and how soon a second app on the same storage serves it.

Embedded storage (GeoPackage versions, SQLite) on the shipped demo data. Prints the
median PATCH time against the median time of reading the same station in the same run,
and, per edit, the delay until the second app's ``/api/v1/stations/<id>`` shows it
(its watcher polls every ``DATA_RELOAD_SECONDS``).

    python bench/edits.py [--edits 5] [--reload 1.0]
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import geopandas as gpd

from locator import create_app
from locator.living import accounts

DEMO = Path(__file__).resolve().parents[1] / "data" / "stations" / "demo_stations.gpkg"
PASSWORD = "bench-password-2026"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--edits", type=int, default=5)
    ap.add_argument("--reload", type=float, default=1.0)
    args = ap.parse_args()
    root = tempfile.mkdtemp(prefix="locator-bench-edits-")
    cfg = {"DATA_DIR": root, "DATA_RELOAD_SECONDS": 0}
    editor_app = create_app(cfg)
    other = create_app({**cfg, "DATA_RELOAD_SECONDS": args.reload}).test_client()
    accounts.add(editor_app.config, "bench@union.example", PASSWORD, union="410000",
                 role="editor")
    c = editor_app.test_client()
    https = {"base_url": "https://localhost"}
    page = c.get("/login", **https).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    r = c.post("/login", json={"email": "bench@union.example", "password": PASSWORD},
               headers={"X-CSRFToken": token}, **https)
    csrf = r.get_json()["csrf_token"]
    sid = str(gpd.read_file(DEMO)["id"].iloc[0])
    reads, writes, visible = [], [], []
    for i in range(args.edits):
        t0 = time.perf_counter()
        tag = c.get(f"/api/v1/admin/stations/{sid}", **https).headers["ETag"]
        reads.append(time.perf_counter() - t0)
        phone = f"0371-{6000000 + i}"
        t0 = time.perf_counter()
        done = c.patch(f"/api/v1/admin/stations/{sid}", json={"phone": phone},
                       headers={"X-CSRFToken": csrf, "If-Match": tag}, **https)
        t1 = time.perf_counter()
        assert done.status_code == 200, done.get_json()
        writes.append(t1 - t0)
        while other.get(f"/api/v1/stations/{sid}").get_json()["properties"]["phone"] != phone:
            time.sleep(0.02)
        visible.append(time.perf_counter() - t1)
    rd, wr = statistics.median(reads), statistics.median(writes)
    print(f"stations: {len(editor_app.extensions['locator.store'].current)}")
    print(f"read station with ETag, median: {rd * 1000:.1f} ms")
    print(f"PATCH (lock, check, publish, reload here), median: {wr * 1000:.1f} ms "
          f"({wr / rd:.0f}x the read)")
    print(f"until the second app serves it (DATA_RELOAD_SECONDS={args.reload}): "
          f"median {statistics.median(visible):.2f} s, max {max(visible):.2f} s")


if __name__ == "__main__":
    main()
