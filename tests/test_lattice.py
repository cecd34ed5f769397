"""Grid-stencil coverage matrices and the fast solver steps against brute force."""

from __future__ import annotations

import itertools
import time

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import Polygon, box

from locator.geo.datum import METRIC_CRS
from locator.planning import bounds, grid, heuristics, lattice, siting

X0, Y0 = 38_500_000.0, 3_800_000.0


def odd_grid(cell: float) -> grid.Grid:
    """Two regions, one an L shape with a hole, so the grid has ragged edges."""
    ell = Polygon([(X0, Y0), (X0 + 6000, Y0), (X0 + 6000, Y0 + 2000), (X0 + 2500, Y0 + 2000),
                   (X0 + 2500, Y0 + 5000), (X0, Y0 + 5000)],
                  holes=[[(X0 + 700, Y0 + 700), (X0 + 1400, Y0 + 700), (X0 + 1400, Y0 + 1400),
                          (X0 + 700, Y0 + 1400)]])
    frame = gpd.GeoDataFrame(
        {"county_adcode": ["410101", "410102"], "county": ["a", "b"],
         "city_adcode": ["410100"] * 2, "city": ["c"] * 2},
        geometry=[ell, box(X0 + 3000, Y0 + 2500, X0 + 5000, Y0 + 4300)], crs=METRIC_CRS)
    return grid.build(frame, cell)


@pytest.mark.parametrize(("cell", "reach"), [(100.0, 300.0), (100.0, 250.0), (250.0, 1000.0)])
def test_stencil_matrix_matches_brute_force(cell, reach):
    g = odd_grid(cell)
    rng = np.random.default_rng(int(cell + reach))
    dem = np.sort(rng.choice(len(g), size=len(g) // 2, replace=False))
    cand = rng.choice(len(g), size=len(g) // 3, replace=False)  # any order
    a = lattice.matrix(g, dem, cand, reach)
    want = np.hypot(g.x[dem][:, None] - g.x[cand][None, :],
                    g.y[dem][:, None] - g.y[cand][None, :]) <= reach
    assert a.has_sorted_indices
    assert (a.toarray().astype(bool) == want).all()
    # Unsorted demand positions are handled too.
    shuffled = rng.permutation(dem)
    b = lattice.matrix(g, shuffled, cand, reach).toarray().astype(bool)
    assert (b == want[np.searchsorted(dem, shuffled)]).all()


def reference_greedy(cover: np.ndarray, w: np.ndarray, p: int) -> list[int]:
    covered = np.zeros(len(w), dtype=bool)
    out: list[int] = []
    for _ in range(p):
        gains = [float(w[cover[:, j] & ~covered].sum()) for j in range(cover.shape[1])]
        j = int(np.argmax(gains))
        if gains[j] <= 0:
            break
        out.append(j)
        covered |= cover[:, j]
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_greedy_and_lagrangian_against_brute_force(seed):
    rng = np.random.default_rng(seed)
    dx, dy = rng.uniform(0, 6000, 300), rng.uniform(0, 6000, 300)
    w = rng.integers(1, 50, 300).astype(float)
    cx, cy = rng.uniform(0, 6000, 14), rng.uniform(0, 6000, 14)
    cover = np.hypot(dx[:, None] - cx[None, :], dy[:, None] - cy[None, :]) <= 1000.0
    a = siting.coverage_matrix(dx, dy, cx, cy, 1000.0)
    p = 3
    picked, gains = heuristics.greedy(a, w, p)
    assert picked == reference_greedy(cover, w, p)
    assert sum(gains) == pytest.approx(float(w[cover[:, picked].any(axis=1)].sum()))
    opt = max(float(w[cover[:, list(c)].any(axis=1)].sum())
              for c in itertools.combinations(range(14), p))
    lag, sites = bounds.lagrangian_bound(a, w, p, 0.0, deadline=time.perf_counter() + 5)
    assert lag >= opt - 1e-6
    if sites:
        assert float(w[cover[:, sites].any(axis=1)].sum()) <= opt + 1e-6


def test_grid_plan_matches_the_kd_tree_plan():
    g = odd_grid(100.0)
    rng = np.random.default_rng(7)
    w = rng.integers(0, 20, len(g)).astype(float)
    pos = np.flatnonzero(w > 0)
    kd = siting.suggest(4, 300.0, (g.x, g.y), (g.x[pos], g.y[pos], w[pos]), time_limit=20)

    def cover(ddx, ddy, ccx, ccy, r):
        return lattice.matrix(g, g.locate(ddx, ddy), g.locate(ccx, ccy), r)

    fast = siting.suggest(4, 300.0, (g.x, g.y), (g.x[pos], g.y[pos], w[pos]), time_limit=20,
                          cover=cover)
    assert fast.objective == pytest.approx(kd.objective)
    assert fast.bound >= kd.objective - 1e-6
