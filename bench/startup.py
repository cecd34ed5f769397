"""Start-up at scale: time and memory until a fresh server answers its first request.

Generates ``--n`` synthetic stations (the demo generator's logic, scaled) into a
temporary folder, or uses ``--data``. Then:

1. **Stages in this process**: reading the file, normalising the columns and
   building the query-ready :class:`~locator.stations.dataset.Dataset`, each
   timed for today's code and for the previous per-row code path kept below
   (read without Arrow, per-row ``map`` normalise, a dict per station), with
   the ratio between them.
2. **Fresh servers**: ``locator serve --data FILE`` in a subprocess, timed from
   spawn to the first answered ``/api/v1/nearest``, with the process's RSS
   then and its high-water mark, on the files backend and on PostGIS (a
   throwaway cluster, as the tests start one). On files the first server
   reads the version and leaves a served snapshot; later ones (median of the
   rest) map it. On PostGIS the import host's snapshot is shared through the
   database: new hosts fetch it, and a host with nothing shared is the baseline.
   The floor printed beside them is a bare interpreter importing the web app.

Usage::

    python bench/startup.py                  # 1,000,000 stations, 3 servers
    python bench/startup.py --n 200000 --runs 2 --keep /tmp/st200k.gpkg
    python bench/startup.py --data /tmp/st200k.gpkg --skip-legacy

Memory-heavy: run it alone, once.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from locator.domain import schema
from locator.stations import columns, dataset, demodata, snapshot
from locator.storage.files import DataDir

ROOT = Path(__file__).resolve().parent.parent
SHARE = {k: v / sum(demodata.DEFAULT_COUNTS.values()) for k, v in demodata.DEFAULT_COUNTS.items()}


def generate(n: int, path: Path) -> None:
    counts = tuple((k, max(1, round(n * s))) for k, s in SHARE.items())
    t0 = time.perf_counter()
    gdf = demodata.generate(ROOT / "data" / "boundaries",
                            options=demodata.DemoOptions(counts=counts))
    dataset.write(gdf, path)
    print(f"generated {len(gdf):,} stations in {time.perf_counter() - t0:.1f} s "
          f"-> {path} ({path.stat().st_size / 1e6:.0f} MB)", flush=True)


# --- the previous code path, kept callable as the baseline ------------------

def legacy_normalise(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    out = gdf.copy()
    out["id"] = out["id"].astype(str)
    out["county_adcode"] = out["county_adcode"].map(
        lambda v: None if v is None or (isinstance(v, float) and np.isnan(v)) else str(int(v))
        if not isinstance(v, str) else v)
    out["amenities"] = out["amenities"].map(lambda v: ";".join(schema.split_amenities(v)))
    out["opening_hours"] = out["opening_hours"].map(
        lambda v: v if isinstance(v, str) and v.strip() else None)
    out["demo"] = out["demo"].fillna(False).astype(bool)
    out["approximate"] = out["approximate"].fillna(False).astype(bool)
    cols = [c for c in schema.FIELDS if c in out.columns]
    return gpd.GeoDataFrame(out[cols], geometry=out.geometry, crs="EPSG:4326")


def legacy_records(f: gpd.GeoDataFrame) -> list[dict[str, Any]]:
    cols = [c for c in schema.FIELDS if c in f.columns]
    plain = pd.DataFrame(f[cols]).astype(object)
    recs: list[dict[str, Any]] = plain.where(plain.notna(), None).to_dict("records")
    for rec in recs:  # the per-station loop this benchmark measures
        rec["amenities"] = tuple(schema.split_amenities(rec.get("amenities")))
    return recs


def stages(path: Path, *, legacy: bool) -> None:
    def timed(fn: Any) -> tuple[Any, float]:
        t0 = time.perf_counter()
        out = fn()
        return out, time.perf_counter() - t0

    now: dict[str, float] = {}
    raw, now["read (pyogrio, Arrow)"] = timed(
        lambda: gpd.read_file(path, layer=dataset.LAYER, engine="pyogrio", use_arrow=True))
    norm, now["normalise"] = timed(lambda: dataset.normalise(raw))
    ds, now["Dataset (columns, masks, indexes)"] = timed(
        lambda: dataset.Dataset(norm, "bench", path))
    _, now["  of which: per-field columns"] = timed(lambda: columns.columns_of(ds.frame))
    _, now["file version hash"] = timed(lambda: dataset.file_version(path))
    with tempfile.TemporaryDirectory(prefix="locator-snap-") as snap_tmp:
        folder = Path(snap_tmp) / "snap"
        _, write_s = timed(lambda: snapshot.write(folder, ds.snapshot_contents()))
        mapped, map_s = timed(lambda: dataset.Dataset.from_snapshot(snapshot.read(folder)))
        cold = sum(v for k, v in now.items() if not k.startswith(" "))
        print(f"\nserved snapshot: written once per version in {write_s:.2f} s; mapping it "
              f"takes {map_s:.2f} s against {cold:.2f} s for read + normalise + Dataset + "
              f"hash above ({cold / map_s:.0f}x)")
        del mapped
    old: dict[str, float] = {}
    if legacy:
        raw_old, old["read (pyogrio, Arrow)"] = timed(
            lambda: pyogrio.read_dataframe(path, layer=dataset.LAYER))
        norm_old, old["normalise"] = timed(lambda: legacy_normalise(raw_old))
        _, recs = timed(lambda: legacy_records(norm_old))
        old["  of which: per-field columns"] = recs
        old["Dataset (columns, masks, indexes)"] = now["Dataset (columns, masks, indexes)"] \
            - now["  of which: per-field columns"] + recs
        old["file version hash"] = now["file version hash"]
        del raw_old, norm_old
    print(f"\nstages in-process ({len(ds):,} stations)")
    print(f"{'stage':38s} {'now':>8s} {'before':>8s} {'ratio':>7s}")
    for k, v in now.items():
        if k in old:
            print(f"{k:38s} {v:7.2f}s {old[k]:7.2f}s {old[k] / v:6.1f}x")
        else:
            print(f"{k:38s} {v:7.2f}s")
    total_now = sum(v for k, v in now.items() if not k.startswith(" "))
    line = f"{'total':38s} {total_now:7.2f}s"
    if old:
        total_old = sum(v for k, v in old.items() if not k.startswith(" "))
        line += f" {total_old:7.2f}s {total_old / total_now:6.1f}x"
    print(line, flush=True)


# --- fresh servers -----------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _mem_mb(pid: int) -> tuple[float, float]:
    got = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        k, _, v = line.partition(":")
        if k in ("VmRSS", "VmHWM"):
            got[k] = int(v.split()[0]) / 1024
    return got["VmRSS"], got["VmHWM"]


def serve_once(env_extra: dict[str, str], *, timeout: float = 300.0
               ) -> tuple[float, float, float]:
    """One fresh server on the live version its environment points at."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}/api/v1/nearest?lat=34.7466&lon=113.6254&limit=5"
    env = {**os.environ, **env_extra}
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "locator", "serve", "--host", "127.0.0.1",
                             "--port", str(port)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        while True:
            if proc.poll() is not None:
                err = proc.stderr.read().decode() if proc.stderr else ""
                raise RuntimeError(f"server exited with {proc.returncode}: {err[-2000:]}")
            if time.perf_counter() - t0 > timeout:
                raise TimeoutError(f"no answer within {timeout} s")
            try:
                with urllib.request.urlopen(url, timeout=5) as resp:
                    if resp.status == 200:
                        resp.read()
                        break
            except OSError:
                time.sleep(0.05)
        elapsed = time.perf_counter() - t0
        rss, hwm = _mem_mb(proc.pid)
        return elapsed, rss, hwm
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def python_floor(runs: int) -> float:
    """Median time for the interpreter to import the web app and exit: the floor."""
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import locator.web.views.api"], check=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def report(label: str, runs: list[tuple[float, float, float]]) -> None:
    first, warm = runs[0], runs[1:] or runs
    t = statistics.median(r[0] for r in warm)
    rss = statistics.median(r[1] for r in warm)
    hwm = statistics.median(r[2] for r in warm)
    print(f"\n{label}: fresh `locator serve` to first /api/v1/nearest answer "
          "(goal 3 s / 1.5 GB, minimum 10 s / 2 GB)")
    print(f"  first server (reads the version, writes the served snapshot): {first[0]:.2f} s, "
          f"RSS {first[1]:.0f} MB, high-water {first[2]:.0f} MB")
    print(f"  later servers (map the snapshot), median of {len(warm)}: {t:.2f} s, "
          f"RSS {rss:.0f} MB, high-water {hwm:.0f} MB", flush=True)


def files_servers(path: Path, root: Path, runs: int) -> None:
    dd = DataDir(root)
    dd.versions_dir.mkdir(parents=True)
    version = dd.versions_dir / "bench.gpkg"
    try:
        os.link(path, version)
    except OSError:
        shutil.copyfile(path, version)
    stations = pyogrio.read_info(version, layer=dataset.LAYER)["features"]
    (dd.versions_dir / "bench.json").write_text(json.dumps({"stations": int(stations)}))
    dd.switch("bench")
    report("files", [serve_once({"LOCATOR_DATA_DIR": str(root), "LOCATOR_DATABASE_URL": ""})
                     for _ in range(runs)])


def postgis_servers(path: Path, root: Path, runs: int) -> None:
    """Servers on hosts that share one database but not a disk.

    ``locator import`` publishes and prepares the served snapshot on its own
    host, which leaves it in the database too; a new web host (its own empty
    data folder) fetches that copy and builds only its trees. For comparison,
    a new host with nothing shared reads and indexes the version's rows.
    """
    sys.path.insert(0, str(ROOT))
    from locator.storage import base
    from tests.servers import postgres_server

    with postgres_server() as pg:
        if pg is None:
            print("\npostgis: PostgreSQL is not installed, skipped")
            return
        cfg = {"DATA_DIR": str(root / "import-host"), "DATA_PATH": str(path),
               "DATABASE_URL": pg.url, "DATABASE_TIMEOUT": 60.0}
        src = base.open_source(cfg)
        frame = dataset.read(path).frame
        t0 = time.perf_counter()
        with src.lock():
            src.publish(frame, meta={"action": "bench"})
        print(f"\npostgis: published {len(frame):,} stations in {time.perf_counter() - t0:.1f} s")
        del frame
        t0 = time.perf_counter()
        src.load()  # what `locator import` does next: prepare, and so share, the snapshot
        print(f"postgis: import host prepared and shared the served snapshot in "
              f"{time.perf_counter() - t0:.1f} s")

        def on(host: str) -> tuple[float, float, float]:
            return serve_once({"LOCATOR_DATA_DIR": str(root / host),
                               "LOCATOR_DATABASE_URL": pg.url})

        shared = [on(f"new-host-{i}") for i in range(max(1, runs))]
        later = [on("new-host-0") for _ in range(max(1, runs - 1))]
        pg.psql("DELETE FROM snapshot_shared")
        alone = on("lone-host")
        print("postgis: fresh `locator serve` to first /api/v1/nearest answer "
              "(goal 3 s / 1.5 GB, minimum 10 s / 2 GB)")
        for label, got in (("new host, snapshot shared in the database", shared),
                           ("same host again (maps its snapshot)", later),
                           ("new host, nothing shared (reads the rows; the old way)", [alone])):
            t = statistics.median(r[0] for r in got)
            print(f"  {label}, median of {len(got)}: {t:.2f} s, "
                  f"RSS {statistics.median(r[1] for r in got):.0f} MB, "
                  f"high-water {statistics.median(r[2] for r in got):.0f} MB", flush=True)
        t_shared = statistics.median(r[0] for r in shared)
        print(f"  new host, shared against nothing shared: {t_shared / alone[0]:.2f}x")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=1_000_000, help="stations to generate")
    ap.add_argument("--runs", type=int, default=3, help="fresh servers to time per backend")
    ap.add_argument("--data", type=Path, help="use this station file instead of generating")
    ap.add_argument("--keep", type=Path, help="write the generated file here and keep it")
    ap.add_argument("--skip-legacy", action="store_true", help="skip the baseline code path")
    ap.add_argument("--skip-stages", action="store_true", help="only time fresh servers")
    ap.add_argument("--backends", default="files,postgis",
                    help="comma-separated: files, postgis")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="locator-startup-") as tmp:
        path = args.data or args.keep or Path(tmp) / "stations.gpkg"
        if not path.is_file():
            generate(args.n, path)
        if not args.skip_stages:
            stages(path, legacy=not args.skip_legacy)
        print(f"\nfloor: importing the web app in a fresh interpreter, median of 3: "
              f"{python_floor(3):.2f} s")
        wanted = {b.strip() for b in args.backends.split(",") if b.strip()}
        if "files" in wanted:
            files_servers(path, Path(tmp) / "var", args.runs)
        if "postgis" in wanted:
            postgis_servers(path, Path(tmp) / "var-pg", args.runs)


if __name__ == "__main__":
    main()
