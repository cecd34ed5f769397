"""Nearest-station benchmark: prints medians and same-run ratios.

1. Single-query latency of ``NearestIndex.query`` (exact geodesic k-NN) and of
   the full ``find_nearest`` use case, against a bare ``cKDTree.query`` on the
   same unit-sphere points, at 14k and 1M synthetic stations.
2. p50 latency and throughput of ``GET /api/v1/nearest`` under waitress,
   against the trivial ``GET /api/v1/health`` JSON route of the same app.
3. Generation time and size of the map page.

Run: ``.venv/bin/python bench/nearest.py`` (``--quick`` for a shorter run).
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing as mp
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from _util import fmt_us, median_seconds

from locator import create_app
from locator.domain import schema
from locator.geo import datum
from locator.stations import dataset
from locator.stations.index import NearestIndex, unit_xyz
from locator.stations.nearest import NearestQuery, find_nearest

W, S, E, N = datum.HENAN_BBOX
K = 10


def bench_index(n: int, queries: int, rng: np.random.Generator) -> None:
    from scipy.spatial import cKDTree

    lon, lat = rng.uniform(W, E, n), rng.uniform(S, N, n)
    kinds = np.zeros(n, dtype=np.int8)
    idx = NearestIndex(lon, lat, kinds)
    bare = cKDTree(unit_xyz(lon, lat), balanced_tree=False)
    qs = np.column_stack([rng.uniform(W, E, queries), rng.uniform(S, N, queries)])
    qxyz = unit_xyz(qs[:, 0], qs[:, 1])
    it = iter(range(10**9))

    def ours() -> None:
        i = next(it) % queries
        idx.query(qs[i, 0], qs[i, 1], k=K)

    def base() -> None:
        i = next(it) % queries
        bare.query(qxyz[i], k=K)

    amen = rng.integers(0, 1 << 8, n)
    mask = (amen & 3) == 3

    def accept(rows: np.ndarray) -> np.ndarray:
        return mask[rows]

    def filtered() -> None:
        i = next(it) % queries
        idx.query(qs[i, 0], qs[i, 1], k=K, accept=accept)

    ours_t = median_seconds(ours, repeat=15, inner=200)
    base_t = median_seconds(base, repeat=15, inner=200)
    filt_t = median_seconds(filtered, repeat=15, inner=200)
    print(f"  n={n:>9,}  cKDTree {fmt_us(base_t)}  NearestIndex.query {fmt_us(ours_t)} "
          f"(ratio {ours_t / base_t:.2f}x)  with 1/4-selective filter {fmt_us(filt_t)} "
          f"({filt_t / base_t:.2f}x)")


def bench_use_case(ds: dataset.Dataset, rng: np.random.Generator) -> None:
    qs = np.column_stack([rng.uniform(112.5, 115.5, 500), rng.uniform(32.5, 35.8, 500)])
    it = iter(range(10**9))
    need = schema.AMENITY_BIT["drinking_water"] | schema.AMENITY_BIT["toilet"]

    def full(links: bool) -> None:
        i = next(it) % len(qs)
        find_nearest(ds, NearestQuery(lon=qs[i, 0], lat=qs[i, 1], k=K, amenity_mask=need,
                                      open_now=True), with_links=links)

    t_plain = median_seconds(lambda: full(False), repeat=15, inner=50)
    t_links = median_seconds(lambda: full(True), repeat=15, inner=50)
    print(f"  find_nearest on the demo data (k={K}, 2 amenities, open now): "
          f"{fmt_us(t_plain)} without links, {fmt_us(t_links)} with navigation links")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _client(port: int, paths: list[str], out: mp.Queue) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    lat = []
    for path in paths:
        t0 = time.perf_counter()
        conn.request("GET", path)
        resp = conn.getresponse()
        resp.read()
        lat.append(time.perf_counter() - t0)
        if resp.status != 200:
            msg = f"{path} answered {resp.status}"
            raise RuntimeError(msg)
    out.put(lat)


def load(port: int, paths: list[str], clients: int) -> tuple[float, float]:
    """Run ``clients`` keep-alive client processes; return (p50 seconds, requests/s)."""
    out: mp.Queue = mp.Queue()
    chunks = [paths[i::clients] for i in range(clients)]
    procs = [mp.Process(target=_client, args=(port, c, out)) for c in chunks]
    t0 = time.perf_counter()
    for p in procs:
        p.start()
    lat = [x for _ in procs for x in out.get()]
    for p in procs:
        p.join()
    wall = time.perf_counter() - t0
    return statistics.median(lat), len(lat) / wall


def bench_http(requests: int) -> None:
    port = _free_port()
    # Every request comes from one address: the per-client rate limit would answer 429.
    env = {**os.environ, "LOCATOR_RATE_LIMIT_ENABLED": "false"}
    server = subprocess.Popen([sys.executable, "-m", "locator", "serve", "--port", str(port)],
                              cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              env=env)
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        rng = np.random.default_rng(1)
        near = [f"/api/v1/nearest?lat={rng.uniform(32.5, 35.8):.5f}"
                f"&lon={rng.uniform(112.5, 115.5):.5f}&k={K}" for _ in range(requests)]
        trivial = ["/api/v1/health"] * requests
        cases = {"/api/v1/nearest (links=all, the default)": near,
                 "/api/v1/nearest?links=web (the worker page)": [p + "&links=web" for p in near]}
        load(port, trivial[:200], 2)  # warm up
        for paths in cases.values():
            load(port, paths[:200], 2)
        rounds: list[dict[str, tuple[float, float]]] = []
        for _ in range(3):
            got = {"trivial": load(port, trivial, 2)}
            got.update({name: load(port, paths, 2) for name, paths in cases.items()})
            rounds.append(got)
        p50_t = statistics.median(r["trivial"][0] for r in rounds)
        rps_t = statistics.median(r["trivial"][1] for r in rounds)
        print(f"  trivial JSON route (/api/v1/health)         p50 {p50_t * 1e3:6.2f} ms  "
              f"{rps_t:7.0f} req/s")
        for name in cases:
            p50_n = statistics.median(r[name][0] for r in rounds)
            rps_n = statistics.median(r[name][1] for r in rounds)
            print(f"  {name:43s} p50 {p50_n * 1e3:6.2f} ms  {rps_n:7.0f} req/s  -> "
                  f"p50 {p50_n / p50_t:.2f}x (target <= 1.5x), "
                  f"throughput {rps_n / rps_t:.2f}x (target >= 0.6x)")
    finally:
        server.terminate()
        server.wait(timeout=10)


def bench_page(ds_path: Path) -> None:
    app = create_app({"DATA_PATH": str(ds_path)})
    client = app.test_client()
    client.get("/")
    size = len(client.get("/").data)
    t = median_seconds(lambda: client.get("/"), repeat=25, inner=10)
    cold = []
    for _ in range(5):
        from locator.geo import maps

        maps.shell_parts.cache_clear()
        t0 = time.perf_counter()
        client.get("/")
        cold.append(time.perf_counter() - t0)
    print(f"  GET / : {t * 1e3:.2f} ms median (first render with Folium "
          f"{statistics.median(cold) * 1e3:.1f} ms), {size / 1024:.1f} KiB "
          f"(targets <= 50 ms, <= 100 KB)")


def bench_page_scaling(rng: np.random.Generator) -> None:
    """Page size with 1M stations, to show it does not grow with the data."""
    n = 1_000_000
    lon, lat = rng.uniform(W, E, n), rng.uniform(S, N, n)
    gdf = gpd.GeoDataFrame({"id": [f"s{i}" for i in range(n)], "kind": "rest_station",
                            "name": "x", "status": "open"},
                           geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.gpkg"
        dataset.write(gdf, path)
        bench_page(path)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="fewer requests, skip 1M page")
    args = ap.parse_args()
    rng = np.random.default_rng(42)
    print("1. single query, k=10, uniform points over Henan (median per query)")
    bench_index(14_250, 2000, rng)
    bench_index(1_000_000, 2000, rng)
    demo = dataset.read(ROOT / "data" / "stations" / "demo_stations.gpkg")
    bench_use_case(demo, rng)
    print("2. HTTP under waitress (2 client processes, keep-alive)")
    bench_http(500 if args.quick else 2000)
    print("3. map page")
    bench_page(ROOT / "data" / "stations" / "demo_stations.gpkg")
    if not args.quick:
        print("   with 1,000,000 stations:")
        bench_page_scaling(rng)


if __name__ == "__main__":
    main()
