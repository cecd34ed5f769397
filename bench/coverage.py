"""Coverage and siting benchmark: prints medians and same-run ratios.

1. Province coverage on the 500 m grid (~660,000 cells): distance to the
   nearest of the demo rest stations and the county table.
2. ``suggest`` for 100 sites at province scale: 1 km radius, population
   demand on the 500 m grid (>= 500,000 uncovered demand cells), every
   grid cell a candidate (>= 500,000 candidates before reduction).
3. The 10,000 demand x 1,000 candidate MCLP (R = 1 km, p = 50) solved by
   ``suggest`` and by spopt's MCLP (CBC through PuLP), in this process, and
   their ratio; both objectives are printed.

Run: ``.venv/bin/python bench/coverage.py`` (``--no-spopt`` skips step 3's
baseline, which takes minutes); ``--http`` measures only the planner over
HTTP (:mod:`planner_http`).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from _util import median_seconds

from locator import config
from locator.planning import coverage, grid, runs, siting
from locator.stations import dataset

POPULATION = Path(os.environ.get(
    "LOCATOR_POPULATION_PATH",
    ROOT.parent / "shared" / "data" / "population" / "henan_county_population_2020.csv"))


def province_coverage(ds: dataset.Dataset) -> None:
    sx, sy = coverage.station_xy(ds, ["rest_station"])
    grid.henan.cache_clear()
    t0 = time.perf_counter()
    g = grid.henan(str(ROOT / "data" / "boundaries"), 500.0)
    build = time.perf_counter() - t0

    def run() -> None:
        coverage.table(coverage.compute(g, sx, sy, radius=1000.0))

    def run_grid() -> None:
        coverage.table(coverage.compute(g, sx, sy, radius=1000.0, area="grid"))

    med = median_seconds(run_grid, repeat=5)
    share = coverage.table(coverage.compute(g, sx, sy, radius=1000.0, area="grid"),
                           by="province")
    print(f"province coverage, 500 m grid ({len(g):,} cells, {len(sx):,} stations): "
          f"median {med:.3f} s (grid built once in {build:.2f} s); "
          f"area covered {share['area_share'].iloc[0]:.2%}  [target <= 5 s]")
    med_exact = median_seconds(run, repeat=3)
    exact = coverage.table(coverage.compute(g, sx, sy, radius=1000.0), by="province")
    print(f"province coverage, exact geometry per county + 500 m grid for demand: "
          f"median {med_exact:.3f} s; area covered {exact['area_share'].iloc[0]:.2%}")


def province_suggest(ds: dataset.Dataset) -> None:
    overrides: dict[str, object] = {}
    if POPULATION.is_file():
        overrides["POPULATION_PATH"] = str(POPULATION)
    cfg = config.load(overrides=overrides)
    layer = "population" if POPULATION.is_file() else "none"
    p = runs.PlanParams(radius=1000.0, demand=layer, n=100)
    t0 = time.perf_counter()
    plan = runs.run(p, ds, cfg)
    total = time.perf_counter() - t0
    c = plan.certificate
    print(f"suggest 100 sites, province ({layer}): {total:.1f} s end to end; "
          f"{c['demand_points']:,} demand cells x {c['candidates']:,} candidates "
          f"(reduced {c['reduced_rows']:,} x {c['reduced_cols']:,}); objective "
          f"{c['objective']:,.0f}, bound {c['bound']:,.0f}, certified gap {c['gap']:.2%}; "
          f"steps {c['seconds']}  [target <= 30 s]")


def versus_spopt(with_spopt: bool) -> None:
    rng = np.random.default_rng(20231)
    nd, nc, p, r = 10_000, 1_000, 50, 1000.0
    size = 30_000.0
    dx, dy = rng.uniform(0, size, nd), rng.uniform(0, size, nd)
    w = rng.integers(1, 100, nd).astype(float)
    cx, cy = rng.uniform(0, size, nc), rng.uniform(0, size, nc)
    sols: list[siting.Suggestion] = []

    def ours() -> None:
        sols.append(siting.suggest(p, r, (cx, cy), (dx, dy, w), time_limit=60))

    med = median_seconds(ours, repeat=3)
    s = sols[-1]
    print(f"suggest 10k x 1k (p={p}, R=1 km): median {med:.2f} s; objective "
          f"{s.objective:,.0f}, bound {s.bound:,.0f}, gap {s.gap:.3%}, {s.status}")
    if not with_spopt:
        return
    import pulp
    from spopt.locate import MCLP

    t0 = time.perf_counter()
    cost = np.hypot(dx[:, None] - cx[None, :], dy[:, None] - cy[None, :])
    model = MCLP.from_cost_matrix(cost, w, service_radius=r, p_facilities=p)
    model.solve(pulp.PULP_CBC_CMD(msg=False))
    theirs = time.perf_counter() - t0
    obj = float(pulp.value(model.problem.objective))
    print(f"spopt MCLP 10k x 1k: {theirs:.1f} s (one run); objective {obj:,.0f}")
    print(f"ratio spopt / suggest: {theirs / med:.0f}x; objectives "
          f"{'equal' if abs(obj - s.objective) < 1e-6 else 'differ'}  [target >= 100x]")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--no-spopt", action="store_true", help="skip the spopt baseline")
    ap.add_argument("--http", action="store_true",
                    help="only the planner over HTTP (page first load, sanitation n=20)")
    ap.add_argument("--repeat", type=int, default=3, help="samples for --http")
    args = ap.parse_args()
    if args.http:
        from planner_http import planner_over_http

        planner_over_http(args.repeat)
        return
    ds = dataset.read(ROOT / "data" / "stations" / "demo_stations.gpkg")
    province_coverage(ds)
    province_suggest(ds)
    versus_spopt(not args.no_spopt)


if __name__ == "__main__":
    main()
