"""Demand layers: totals are kept, placement is right, bad input is a 400 on `demand`."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
from rasterio.transform import from_origin
from shapely.geometry import box

from locator.errors import LocatorError
from locator.planning import demand, grid
from tests.conftest import ROOT, shared_file

BOUNDARIES = ROOT / "data" / "boundaries"


@pytest.fixture(scope="module")
def g() -> grid.Grid:
    return grid.henan(str(BOUNDARIES), 1000.0)


def test_county_table_is_spread_uniformly_and_totals_kept(g, tmp_path):
    codes = g.regions["county_adcode"].tolist()
    pops = np.arange(1, len(codes) + 1) * 1000.0
    path = tmp_path / "counties.csv"
    pd.DataFrame({"adcode": codes, "pop2020": pops}).to_csv(path, index=False)
    d = demand.load(g, path)
    assert d.source == "county_table"
    assert d.total == pytest.approx(pops.sum())
    per = np.bincount(g.region, weights=d.weights, minlength=len(codes))
    assert np.allclose(per, pops)
    k = 5
    cells = d.weights[g.region == k]
    assert np.allclose(cells, cells[0])


def test_real_population_table(g):
    path = shared_file("population", "henan_county_population_2020.csv")
    d = demand.load(g, path)
    expect = pd.read_csv(path)["pop2020"].sum()
    assert d.total == pytest.approx(expect)


def test_points_land_in_their_cells(g, tmp_path):
    path = tmp_path / "pts.csv"
    pd.DataFrame({"lon": [113.6645, 113.6645, 100.0], "lat": [34.7536, 34.7536, 30.0],
                  "weight": [5, 7, 11]}).to_csv(path, index=False)
    d = demand.load(g, path)
    assert d.total == pytest.approx(12)
    assert d.dropped == pytest.approx(11)
    x, y = grid.to_metric(np.array([113.6645]), np.array([34.7536]))
    assert d.weights[g.locate(x, y)[0]] == pytest.approx(12)


def test_polygons_with_counts(g, tmp_path):
    polys = gpd.GeoDataFrame({"count": [1000.0, 50.0]},
                             geometry=[box(113.5, 34.6, 113.8, 34.9),
                                       box(113.60, 34.70, 113.601, 34.701)], crs="EPSG:4326")
    path = tmp_path / "p.geojson"
    polys.to_file(path)
    d = demand.load(g, path)
    assert d.total == pytest.approx(1050)
    nz = d.weights[d.weights > 0]
    # The big box spreads evenly; the tiny one lands whole in one cell.
    assert np.isclose(nz, nz.min()).sum() >= 500


def test_synthetic_raster(g, tmp_path):
    path = tmp_path / "pop.tif"
    data = np.zeros((20, 30), dtype="float32")
    data[5:15, 10:20] = 10.0
    data[0, 0] = -9999
    with rasterio.open(path, "w", driver="GTiff", height=20, width=30, count=1,
                       dtype="float32", crs="EPSG:4326", nodata=-9999,
                       transform=from_origin(113.5, 34.9, 0.01, 0.01)) as dst:
        dst.write(data, 1)
    d = demand.load(g, path)
    assert d.source == "raster"
    assert d.total == pytest.approx(1000.0)
    # The populated block is ~9 km x 11 km: it must cover many 1 km cells, not a few.
    assert (d.weights > 0).sum() > 60


@pytest.mark.parametrize(("name", "body", "needle"), [
    ("a.csv", "adcode,pop2020\n999999,5\n", "unknown county adcode"),
    ("b.csv", "adcode,pop2020\n410102,-5\n", "negative"),
    ("c.csv", "adcode,pop2020\n410102,lots\n", "finite number"),
    ("d.csv", "adcode,people_total\n410102,5\n", "count column"),
    ("e.csv", "lon,lat\n113.6,34.7\n", "missing weight"),
    ("f.csv", "lon,lat,weight\n113.6,95,1\n", "out of range"),
    ("g.csv", "lon,lat,weight\n80,10,1\n", "inside the planning area"),
    ("h.xlsx", "x", "unsupported"),
    ("i.geojson", "{not json", "not a readable"),
])
def test_bad_demand_input_is_a_400_on_demand(g, tmp_path, name, body, needle):
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    with pytest.raises(LocatorError) as exc:
        demand.load(g, path)
    assert exc.value.status == 400 and exc.value.field == "demand"
    assert needle in exc.value.message


def test_missing_file_is_a_400(g, tmp_path):
    with pytest.raises(LocatorError) as exc:
        demand.load(g, tmp_path / "nope.csv")
    assert exc.value.field == "demand"
