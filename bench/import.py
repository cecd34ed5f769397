"""Import benchmark: a synthetic 100,000-row GBK CSV with BD-09 coordinates.

The file is generated in a temporary folder from demo-like points (random
stations jittered around the synthetic demo stations, so they fall inside
Henan's counties), with Chinese headers, free-text hours and amenities, a few
swapped and DMS coordinates and some stated counties that disagree.

Each run is a fresh child process (``locator import``, dry run and publish),
so peak memory is that process's own ``ru_maxrss``. The baseline, run the same
way, is a child that only decodes the file and parses it with ``pandas.read_csv``:
the floor any importer pays.

Run: ``.venv/bin/python bench/import.py [--rows 100000] [--repeat 3]``.
Targets: <= 10 s and <= 1 GB for 100,000 rows.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from locator.geo import datum
from locator.stations import dataset

HOURS = ["24小时", "08:00-20:00", "早8点至晚8点", "周一至周五 9:00-17:00", "全天",
         "8:00-12:00，14:00-18:00", "工作日 8:30-17:30，节假日休息", "工作日开放", ""]
AMENITIES = ["饮水、微波炉、卫生间、充电", "饮水、休息座椅", "热水、药箱、雨伞、WiFi",
             "饮水、卫生间", "空调、充电、储物柜、打气筒", "饮水、按摩椅", ""]
KINDS = ["户外劳动者爱心驿站", "爱心驿站", "司机之家", "职工书屋", ""]


def make_csv(path: Path, rows: int, seed: int = 7) -> None:
    rng = np.random.default_rng(seed)
    demo = dataset.read(ROOT / "data" / "stations" / "demo_stations.gpkg")
    pick = rng.integers(0, len(demo), rows)
    lon = demo.lon[pick] + rng.normal(0, 0.002, rows)
    lat = demo.lat[pick] + rng.normal(0, 0.002, rows)
    bx, by = datum.wgs84_to_bd09(lon, lat)
    county = demo.frame["county"].to_numpy()[pick].astype(object)
    wrong = rng.random(rows) < 0.01
    county[wrong] = "金水区"
    lon_t = np.char.mod("%.6f", bx).astype(object)
    lat_t = np.char.mod("%.6f", by).astype(object)
    swap = rng.random(rows) < 0.002
    lon_t[swap], lat_t[swap] = lat_t[swap], lon_t[swap]
    t = pd.DataFrame({
        "站点名称": [f"{c}第{i}号户外劳动者爱心驿站" for i, c in enumerate(county)],
        "详细地址": [f"河南省{c}人民路{i % 997}号" for i, c in enumerate(county)],
        "所属区县": county,
        "类型": rng.choice(KINDS, rows),
        "开放时间": rng.choice(HOURS, rows),
        "服务项目": rng.choice(AMENITIES, rows),
        "联系电话": [f"0371-6{i % 10_000_000:07d}" for i in range(rows)],
        "所属工会": "河南省总工会",
        "经度": lon_t, "纬度": lat_t,
    })
    t.to_csv(path, index=False, encoding="gbk")


BASELINE = """
import sys, io, pandas as pd
data = open(sys.argv[1], 'rb').read()
pd.read_csv(io.StringIO(data.decode('gb18030')), dtype=str, keep_default_na=False)
"""


def run_child(args: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Wall seconds and peak RSS (MiB) of one child process."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(args, env=env, cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    out = proc.stdout.read() if proc.stdout else ""
    err = proc.stderr.read() if proc.stderr else ""
    if status != 0:
        msg = f"{args} failed:\n{out}\n{err}"
        raise RuntimeError(msg)
    return wall, usage.ru_maxrss / 1024, out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="locator-bench-") as tmp:
        csv_path = Path(tmp) / "stations_gbk.csv"
        t0 = time.perf_counter()
        make_csv(csv_path, a.rows)
        print(f"generated {a.rows:,} rows, {csv_path.stat().st_size / 1e6:.1f} MB GBK "
              f"in {time.perf_counter() - t0:.1f} s")
        env = {**os.environ, "LOCATOR_IMPORT_MAX_ROWS": str(max(a.rows, 100_000))}
        py = sys.executable
        cases = {
            "baseline: decode + pandas.read_csv": [py, "-c", BASELINE, str(csv_path)],
            "locator import --dry-run": [py, "-m", "locator", "import", str(csv_path),
                                         "--crs", "bd09", "--source", "bench", "--dry-run"],
            "locator import (publish)": [py, "-m", "locator", "import", str(csv_path),
                                         "--crs", "bd09", "--source", "bench", "--force"],
        }
        results: dict[str, tuple[float, float]] = {}
        last = ""
        for name, args in cases.items():
            walls, peaks = [], []
            for i in range(a.repeat):
                run_env = {**env, "LOCATOR_DATA_DIR": str(Path(tmp) / f"data-{name[:8]}-{i}")}
                wall, peak, out = run_child(args, run_env)
                walls.append(wall)
                peaks.append(peak)
                last = out if "publish" in name else last
            results[name] = (statistics.median(walls), max(peaks))
        base = results["baseline: decode + pandas.read_csv"][0]
        print(f"\n{'case':38s} {'median s':>9s} {'ratio':>7s} {'peak MiB':>9s}")
        for name, (wall, peak) in results.items():
            print(f"{name:38s} {wall:9.2f} {wall / base:7.1f} {peak:9.0f}")
        wall, peak = results["locator import (publish)"]
        verdict = "met" if wall <= 10 and peak <= 1024 else "MISSED"
        print(f"\ntarget <= 10 s and <= 1024 MiB: {verdict} ({wall:.2f} s, {peak:.0f} MiB; "
              "child processes, interpreter start included)")
        print("\nlast import's summary:\n" + last.rstrip())


if __name__ == "__main__":
    main()
