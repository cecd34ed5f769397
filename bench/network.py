"""Street-network benchmark: build a province-size walking graph, then network coverage.

1. Writes a synthetic extract with pyosmium's writer: a street grid of
   ``--nodes`` nodes (default 5,000,000) spread over Henan's bounding box,
   one way per grid row and column.
2. Builds the walking graph from it with ``locator network build`` in a child
   process; prints the wall time and the child's peak RSS (targets: ≤ 10 min,
   ≤ 8 GB).
3. Loads the graph and times province coverage on the 500 m grid with the
   demo rest stations by network distance (target ≤ 15 s after loading),
   against straight-line coverage in the same process, and prints both side by
   side for each county.

Run: ``.venv/bin/python bench/network.py --nodes 200000`` for a quick run; the
default size once (it takes minutes and several GB).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from planner_http import _get, _server

from locator import config
from locator.planning import coverage, grid, network_distance
from locator.stations import dataset

# Henan's bounding box (WGS-84).
BBOX = (110.35, 31.38, 116.65, 36.37)


def write_extract(path: Path, n_nodes: int, way_nodes: int = 0) -> tuple[int, float, int]:
    """A street grid of about ``n_nodes`` nodes; returns the side, spacing (m) and ways.

    With ``way_nodes`` each street is cut into ways of that many nodes (sharing
    their end nodes), as real extracts are: OSM ways are short, so a province
    has about a million of them, and per-way costs show.
    """
    import osmium

    side = int(np.sqrt(n_nodes))
    lon = np.linspace(BBOX[0], BBOX[2], side)
    lat = np.linspace(BBOX[1], BBOX[3], side)
    spacing = (BBOX[3] - BBOX[1]) / (side - 1) * 110_950
    w = osmium.SimpleWriter(str(path))
    try:
        ids = np.arange(1, side * side + 1, dtype=np.int64).reshape(side, side)
        for r in range(side):
            for c in range(side):
                w.add_node(osmium.osm.mutable.Node(
                    id=int(ids[r, c]), location=(float(lon[c]), float(lat[r]))))
        way = 1
        tags = {"highway": "residential"}
        step = way_nodes - 1 if way_nodes > 1 else side
        streets = [(ids[r].tolist(), f"东西{r}路") for r in range(side)] + \
            [(ids[:, c].tolist(), f"南北{c}街") for c in range(side)]
        for nodes, name in streets:
            for a in range(0, side - 1, step):
                w.add_way(osmium.osm.mutable.Way(id=way, nodes=nodes[a:a + step + 1],
                                                 tags={**tags, "name": name}))
                way += 1
    finally:
        w.close()
    return side, spacing, way - 1


SUGGEST = "/api/v1/suggest?preset=sanitation&n=20&wait=60&distance="


def siting_over_http(path: Path, repeat: int) -> None:
    """Median seconds and certified gaps of the sanitation n=20 request, network vs straight."""
    secs: dict[str, list[float]] = {"straight": [], "network": []}
    gaps: dict[str, list[float]] = {"straight": [], "network": []}
    steps: dict[str, dict[str, float]] = {}
    for _ in range(repeat):
        for kind in secs:
            with _server(overrides={"NETWORK_PATH": str(path)}) as base:
                t, body = _get(base + SUGGEST + kind)
                got = json.loads(body)
                assert got["province"]["distance"] == kind, got["province"]["distance"]
                secs[kind].append(t)
                gaps[kind].append(float(got["certificate"]["gap"]))
                steps[kind] = got["certificate"]["seconds"]
    med = {k: statistics.median(v) for k, v in secs.items()}
    for kind in secs:
        print(f"sanitation n=20 over HTTP, {kind}: median {med[kind]:.2f} s over {repeat} "
              f"fresh apps (target ≤ {30 if kind == 'network' else 5} s), certified gap "
              f"median {statistics.median(gaps[kind]):.2%}, worst {max(gaps[kind]):.2%} "
              f"(target ≤ 2%); last run's steps {steps[kind]}")
    print(f"ratio network / straight: {med['network'] / med['straight']:.1f}x")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nodes", type=int, default=5_000_000, help="street grid nodes")
    ap.add_argument("--radius", type=float, default=1000.0)
    ap.add_argument("--way-nodes", type=int, default=12,
                    help="nodes per way (0: one way per street); real OSM ways are short")
    ap.add_argument("--repeat", type=int, default=3,
                    help="samples of the sanitation n=20 request (0 skips step 4)")
    ap.add_argument("--no-coverage", action="store_true", help="skip step 3's coverage")
    args = ap.parse_args()
    cfg = config.load()
    with tempfile.TemporaryDirectory(prefix="locator-net-bench-") as tmp:
        pbf = Path(tmp) / "grid.osm.pbf"
        t = time.perf_counter()
        side, spacing, ways = write_extract(pbf, args.nodes, args.way_nodes)
        print(f"extract: {side * side:,} nodes, {ways:,} ways, street spacing "
              f"{spacing:.0f} m, {pbf.stat().st_size / 1e6:.1f} MB, written in "
              f"{time.perf_counter() - t:.1f} s")
        t = time.perf_counter()
        out = subprocess.run([sys.executable, "-m", "locator", "network", "build", "--osm",
                              str(pbf), "--mode", "walk", "--out", tmp],
                             capture_output=True, text=True, check=False)
        build_s = time.perf_counter() - t
        peak_gb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1e6
        if out.returncode:
            print(out.stderr[-2000:])
            sys.exit(1)
        print(out.stdout.strip().splitlines()[0])
        print(f"build: {build_s:.1f} s (target ≤ 600 s), peak RSS {peak_gb:.2f} GB "
              f"(target ≤ 8 GB)")
        path = next(Path(tmp).glob("network-*.npz"))
        t = time.perf_counter()
        net = network_distance._load(str(path), path.stat().st_mtime,
                                     float(cfg["NETWORK_MAX_SNAP_M"]))
        print(f"load: {time.perf_counter() - t:.1f} s")
        if not args.no_coverage:
            network_coverage(net, args.radius)
        if args.repeat:
            siting_over_http(path, args.repeat)


def network_coverage(net: network_distance.Network, radius: float) -> None:
    """Step 3: province coverage by network against straight-line distance, per county."""
    cfg = config.load()
    g = grid.henan(str(cfg["BOUNDARIES_DIR"]), float(cfg["GRID_CELL_M"]))
    ds = dataset.read(cfg["DATA_PATH"])
    sx, sy = coverage.station_xy(ds, ["rest_station"])
    t = time.perf_counter()
    straight = coverage.compute(g, sx, sy, radius=radius, area="grid")
    t_straight = time.perf_counter() - t
    t = time.perf_counter()
    network = coverage.compute(g, sx, sy, radius=radius, area="grid", network=net)
    t_net = time.perf_counter() - t
    print(f"coverage of {len(g):,} cells, {len(sx):,} stations, radius {radius:g} m: "
          f"straight {t_straight:.2f} s, network {t_net:.2f} s (target ≤ 15 s), "
          f"ratio {t_net / t_straight:.1f}x")
    a = coverage.table(straight)
    b = coverage.table(network)
    a_sh = a["covered_cells"] / a["cells"].clip(lower=1)
    b_sh = b["covered_cells"] / b["cells"].clip(lower=1)
    print(f"{'county':<16}{'cells':>8}{'straight':>10}{'network':>10}{'unreach.':>10}")
    for i in np.argsort(a["county_adcode"].to_numpy()):
        print(f"{a['city'][i] + a['county'][i]:<16}{a['cells'][i]:>8,}"
              f"{a_sh[i]:>10.1%}{b_sh[i]:>10.1%}{b['unreachable_cells'][i]:>10,}")
    print(f"province: straight {a['covered_cells'].sum() / a['cells'].sum():.1%}, network "
          f"{b['covered_cells'].sum() / b['cells'].sum():.1%}")


if __name__ == "__main__":
    main()
