"""Coverage engine against hand-computed areas and an independent Monte-Carlo estimate."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import box

from locator.errors import LocatorError
from locator.geo import regions
from locator.geo.datum import METRIC_CRS
from locator.planning import coverage, grid
from locator.stations import dataset
from tests.conftest import DEMO, ROOT

BOUNDARIES = ROOT / "data" / "boundaries"
X0, Y0 = 38_500_000.0, 3_800_000.0  # a point inside Henan in EPSG:4547


def squares(*boxes_: tuple[float, float, float, float]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"county_adcode": [str(410000 + i) for i in range(len(boxes_))],
         "county": [f"r{i}" for i in range(len(boxes_))],
         "city_adcode": ["410100"] * len(boxes_), "city": ["c"] * len(boxes_)},
        geometry=[box(*b) for b in boxes_], crs=METRIC_CRS)


def covered_km2(g: grid.Grid, sx, sy, radius: float, detour: float = 1.0,
                area: str = "exact") -> np.ndarray:
    cov = coverage.compute(g, np.asarray(sx, float), np.asarray(sy, float), radius=radius,
                           detour=detour, area=area)
    return coverage.table(cov)["covered_km2"].to_numpy()


@pytest.mark.parametrize("area", coverage.AREA_METHODS)
def test_one_station_in_a_square_covers_pi_r_squared(area):
    g = grid.build(squares((X0, Y0, X0 + 4000, Y0 + 4000)), 10.0)
    got = covered_km2(g, [X0 + 2000], [Y0 + 2000], 1000.0, area=area)[0]
    assert got == pytest.approx(math.pi, rel=0.003)


@pytest.mark.parametrize("area", coverage.AREA_METHODS)
def test_two_overlapping_circles_match_the_lens_formula(area):
    r, d = 1000.0, 1200.0
    lens = 2 * r * r * math.acos(d / (2 * r)) - d / 2 * math.sqrt(4 * r * r - d * d)
    expect = (2 * math.pi * r * r - lens) / 1e6
    g = grid.build(squares((X0, Y0, X0 + 5000, Y0 + 4000)), 10.0)
    got = covered_km2(g, [X0 + 1900, X0 + 1900 + d], [Y0 + 2000, Y0 + 2000], r, area=area)[0]
    assert got == pytest.approx(expect, rel=0.003)


def test_a_station_on_a_border_counts_its_half_disc_in_each_region():
    # Each region builds the discs of its own nearby stations: a shared one counts in both.
    g = grid.build(squares((X0, Y0, X0 + 4000, Y0 + 4000), (X0 + 4000, Y0, X0 + 8000, Y0 + 4000)),
                   10.0)
    got = covered_km2(g, [X0 + 4000], [Y0 + 2000], 1000.0, area="exact")
    assert got == pytest.approx([math.pi / 2, math.pi / 2], rel=0.003)


@pytest.mark.parametrize("area", coverage.AREA_METHODS)
def test_detour_shrinks_the_reach(area):
    g = grid.build(squares((X0, Y0, X0 + 4000, Y0 + 4000)), 10.0)
    got = covered_km2(g, [X0 + 2000], [Y0 + 2000], 1000.0, detour=2.0, area=area)[0]
    assert got == pytest.approx(math.pi / 4, rel=0.005)


@pytest.mark.parametrize("area", coverage.AREA_METHODS)
def test_a_county_with_no_station_is_zero_and_stations_are_counted(area):
    g = grid.build(squares((X0, Y0, X0 + 3000, Y0 + 3000),
                           (X0 + 10_000, Y0, X0 + 13_000, Y0 + 3000)), 50.0)
    cov = coverage.compute(g, np.array([X0 + 1500.0]), np.array([Y0 + 1500.0]), radius=1000,
                           area=area)
    tab = coverage.table(cov)
    assert tab.loc[1, "area_share"] == 0.0
    assert tab.loc[1, "stations"] == 0 and tab.loc[0, "stations"] == 1
    assert tab.loc[0, "area_share"] == pytest.approx(math.pi / 9, rel=0.01)
    prov = coverage.table(cov, by="province").iloc[0]
    assert prov["area_km2"] == pytest.approx(18.0)


def test_no_station_at_all_is_zero_everywhere():
    g = grid.build(squares((X0, Y0, X0 + 3000, Y0 + 3000)), 100.0)
    cov = coverage.compute(g, np.array([]), np.array([]), radius=1000)
    assert coverage.table(cov)["area_share"].tolist() == [0.0]
    assert np.isinf(cov.distance).all()


@pytest.mark.slow
@pytest.mark.parametrize("area", coverage.AREA_METHODS)
def test_county_shares_agree_with_monte_carlo(area):
    """Exact and 500 m grid shares against random points and brute-force distances.

    Tolerance: 4000 points give a standard error of at most 0.8 points;
    with the grid's own error (up to ~2 points, see below) we allow 3.
    """
    ds = dataset.read(DEMO)
    sx, sy = coverage.station_xy(ds, ["rest_station"])
    g = grid.henan(str(BOUNDARIES), 500.0)
    tab = coverage.table(coverage.compute(g, sx, sy, radius=1000, area=area))
    cty = regions.counties(str(BOUNDARIES)).to_crs(METRIC_CRS)
    rng = np.random.default_rng(7)
    picks = ["410105", "410102", "411224", "410482", "411502"]
    for code in picks:
        poly = cty.loc[cty["county_adcode"] == code].geometry.iloc[0]
        x0, y0, x1, y1 = poly.bounds
        px = rng.uniform(x0, x1, 20_000)
        py = rng.uniform(y0, y1, 20_000)
        inside = shapely.contains_xy(poly, px, py)
        px, py = px[inside][:4000], py[inside][:4000]
        near = (np.abs(sx - px.mean()) < (x1 - x0) + 2000) & \
            (np.abs(sy - py.mean()) < (y1 - y0) + 2000)
        d2 = (px[:, None] - sx[near][None, :]) ** 2 + (py[:, None] - sy[near][None, :]) ** 2
        mc = float((d2.min(axis=1) <= 1000.0 ** 2).mean()) if near.any() else 0.0
        got = float(tab.loc[tab["county_adcode"] == code, "area_share"].iloc[0])
        assert abs(got - mc) < 0.03, (code, got, mc)


@pytest.mark.slow
def test_grid_shares_agree_with_exact_geometry_in_every_county():
    ds = dataset.read(DEMO)
    sx, sy = coverage.station_xy(ds, ["rest_station"])
    g = grid.henan(str(BOUNDARIES), 500.0)
    exact = coverage.table(coverage.compute(g, sx, sy, radius=1000, area="exact"))
    cells = coverage.table(coverage.compute(g, sx, sy, radius=1000, area="grid"))
    err = np.abs(exact["area_share"] - cells["area_share"]).to_numpy()
    assert err.max() < 0.03 and err.mean() < 0.005
    prov_e = coverage.table(coverage.compute(g, sx, sy, radius=1000), by="province")
    assert prov_e["covered_km2"].iloc[0] == pytest.approx(exact["covered_km2"].sum())


def test_grid_area_matches_polygon_area():
    g = grid.henan(str(BOUNDARIES), 500.0)
    cells = np.bincount(g.region, minlength=len(g.regions)) * g.cell_km2
    area = g.regions["area_km2"].to_numpy()
    big = area > 300
    assert np.all(np.abs(cells[big] - area[big]) / area[big] < 0.02)


def test_gaps_are_beyond_reach_and_ranked():
    g = grid.build(squares((X0, Y0, X0 + 20_000, Y0 + 20_000)), 100.0)
    cov = coverage.compute(g, np.array([X0 + 2000.0]), np.array([Y0 + 2000.0]), radius=1000)
    gaps = coverage.gaps(cov, top=20)
    assert len(gaps) == 20
    assert (gaps["mean_distance_m"] > 1000).all()
    assert list(gaps["rank"]) == list(range(1, 21))
    # With area only, the farthest full blocks come first.
    assert gaps["mean_distance_m"].iloc[0] >= gaps["mean_distance_m"].iloc[-1]
    cells = coverage.gap_cells(cov)
    assert (cells["distance_m"] > 1000).all()
    assert len(cells) == len(g) - int(cov.covered.sum())


def test_bad_radius_is_a_400():
    g = grid.build(squares((X0, Y0, X0 + 1000, Y0 + 1000)), 100.0)
    with pytest.raises(LocatorError) as exc:
        coverage.compute(g, np.array([X0]), np.array([Y0]), radius=-1)
    assert getattr(exc.value, "field", None) == "radius"
