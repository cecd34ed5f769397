"""Runs limited to one city or county, checked against a brute-force computation.

The oracle reads the boundary file, the station file and the demand points with
GeoPandas and Shapely alone: the demand inside the area's polygon, and which of
it has a serving station (anywhere, inside or outside the area) within the
radius. The planner's scoped figures must equal it.
"""

from __future__ import annotations

import io
from urllib.parse import unquote

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from locator import config, create_app
from locator.cli.main import main
from locator.planning import runs
from locator.stations import dataset
from tests.conftest import DEMO
from tests.jobclient import planned

CELL = 1000.0
RADIUS = 2000.0
# The planning grid's metric CRS (CGCS2000 / 3-degree Gauss-Kruger CM 114E).
METRIC = "EPSG:4547"
DENGFENG = "410185"  # 郑州市 登封市: rural, with neighbours on every side
ZHENGZHOU = "410100"


def _boundaries() -> gpd.GeoDataFrame:
    cfg = config.load()
    gdf = gpd.read_file(f"{cfg['BOUNDARIES_DIR']}/henan_county.geojson")
    gdf["county_adcode"] = gdf["district_adcode"].astype(int).astype(str)
    gdf["city_adcode"] = gdf["city_adcode"].astype(int).astype(str)
    return gdf.set_geometry(gdf.geometry.make_valid()).to_crs(METRIC)


def _area(adcode: str) -> shapely.Geometry:
    b = _boundaries()
    return b[(b["county_adcode"] == adcode) | (b["city_adcode"] == adcode)].union_all()


@pytest.fixture(scope="module")
def demand_points(tmp_path_factory):
    """Weighted points at cell centres of the 1 km lattice, around and across 登封市.

    The box reaches 8 km beyond the county on every side, so that a good share of
    the points lie outside it (and must not count) and many inside lie near
    stations of the neighbouring counties.
    """
    x0, y0, x1, y1 = _area(DENGFENG).buffer(8000).bounds
    cols = np.arange(np.floor(x0 / CELL), np.ceil(x1 / CELL))
    rows = np.arange(np.floor(y0 / CELL), np.ceil(y1 / CELL))
    gx, gy = np.meshgrid((cols + 0.5) * CELL, (rows + 0.5) * CELL)
    rng = np.random.default_rng(11)
    pick = rng.random(gx.size) < 0.6
    x, y = gx.ravel()[pick], gy.ravel()[pick]
    w = rng.integers(1, 500, len(x)).astype(float)
    pts = gpd.GeoSeries(gpd.points_from_xy(x, y), crs=METRIC).to_crs("EPSG:4326")
    folder = tmp_path_factory.mktemp("scope_demand")
    path = folder / "walkers.csv"
    pd.DataFrame({"lon": pts.x, "lat": pts.y, "weight": w}).to_csv(path, index=False,
                                                                  float_format="%.10f")
    return path, gpd.GeoDataFrame({"weight": w}, geometry=gpd.points_from_xy(x, y), crs=METRIC)


def _stations() -> gpd.GeoDataFrame:
    st = gpd.read_file(DEMO)
    st = st[(st["kind"] == "rest_station") & (st["status"] == "open")]
    return st.to_crs(METRIC)


def _oracle(points: gpd.GeoDataFrame, area: shapely.Geometry, stations: gpd.GeoDataFrame
            ) -> tuple[float, float, np.ndarray]:
    """Demand inside ``area``, the part of it within RADIUS of a station, the inside mask."""
    inside = shapely.contains(area, points.geometry.to_numpy())
    tree = shapely.STRtree(stations.geometry.to_numpy())
    near = tree.query(points.geometry.to_numpy()[inside], predicate="dwithin",
                      distance=RADIUS)[0]
    covered = np.zeros(int(inside.sum()), dtype=bool)
    covered[near] = True
    w = points["weight"].to_numpy()[inside]
    return float(w.sum()), float(w[covered].sum()), inside


def _cfg(folder) -> dict:
    return {**config.load(), "GRID_CELL_M": CELL, "DEMAND_DIR": str(folder),
            "POPULATION_PATH": str(folder / "absent.csv"), "SUGGEST_TIME_LIMIT": 2.0}


def _plan(cfg, region: str, n: int = 0):
    p = runs.parse({"region": region, "demand": "walkers", "radius": f"{RADIUS:g}",
                    "n": str(n)}, cfg, with_n=n > 0)
    return runs.run(p, dataset.read(DEMO), cfg)


def test_county_scope_equals_brute_force_coverage(demand_points):
    path, points = demand_points
    plan = _plan(_cfg(path.parent), DENGFENG, n=3)
    area = _area(DENGFENG)
    stations = _stations()
    total, covered, inside = _oracle(points, area, stations)
    assert 0 < inside.sum() < len(points)  # points outside exist and are left out
    assert plan.province["demand"] == pytest.approx(total, rel=1e-9)
    assert plan.province["covered_demand"] == pytest.approx(covered, rel=1e-9)
    assert plan.province["name"] == "郑州市 登封市"
    assert list(plan.counties["county_adcode"]) == [DENGFENG]
    # Stations outside the county cover some of its demand: cutting them at the
    # border would give less.
    own = stations[shapely.contains(area, stations.geometry.to_numpy())]
    _, covered_own, _ = _oracle(points, area, own)
    assert covered_own < covered
    # Suggested sites lie in the county.
    sites = gpd.GeoSeries(gpd.points_from_xy(plan.suggestions["lon"], plan.suggestions["lat"]),
                          crs="EPSG:4326").to_crs(METRIC)
    assert len(sites) == 3
    assert shapely.contains(area.buffer(1.0), sites.to_numpy()).all()


def test_city_scope_per_county_equals_brute_force(demand_points):
    path, points = demand_points
    plan = _plan(_cfg(path.parent), ZHENGZHOU)
    b = _boundaries()
    city = b[b["city_adcode"] == ZHENGZHOU]
    assert sorted(plan.counties["county_adcode"]) == sorted(city["county_adcode"])
    stations = _stations()
    got = plan.counties.set_index("county_adcode")
    for code, geom in zip(city["county_adcode"], city.geometry, strict=True):
        total, covered, _ = _oracle(points, geom, stations)
        assert got.loc[code, "demand"] == pytest.approx(total, rel=1e-9, abs=1e-9), code
        assert got.loc[code, "covered_demand"] == pytest.approx(covered, rel=1e-9,
                                                                abs=1e-9), code
    # The gap areas are the city's own.
    assert set(plan.gaps["county_adcode"]) <= set(city["county_adcode"])


def test_scoped_rows_match_the_province_run(demand_points):
    """The same cells, the same stations: a county's row does not change with the scope."""
    path, _ = demand_points
    cfg = _cfg(path.parent)
    whole = _plan(cfg, "").counties.set_index("county_adcode")
    one = _plan(cfg, DENGFENG).counties.set_index("county_adcode")
    for col in ("cells", "covered_cells", "stations", "demand", "covered_demand"):
        assert one.loc[DENGFENG, col] == pytest.approx(whole.loc[DENGFENG, col]), col


@pytest.fixture(scope="module")
def scope_client(demand_points):
    path, _ = demand_points
    app = create_app({"TESTING": True, "DATA_PATH": str(DEMO), "TILES": "osm",
                      "GRID_CELL_M": CELL, "DEMAND_DIR": str(path.parent),
                      "POPULATION_PATH": str(path.parent / "absent.csv"),
                      "SUGGEST_TIME_LIMIT": 2.0})
    return app.test_client()


@pytest.mark.parametrize("code", ["999999", "410199", "41", "zhengzhou", "4101050"])
def test_unknown_region_is_a_400_in_the_one_shape(scope_client, code):
    for url in (f"/api/v1/coverage?region={code}", f"/api/v1/suggest?region={code}"):
        r = scope_client.get(url)
        assert r.status_code == 400
        assert set(r.json) == {"status", "code", "message", "field"}
        assert r.json["field"] == "region" and r.json["code"] == "invalid_parameter"


def test_unknown_region_on_the_page_is_a_readable_form(scope_client):
    r = scope_client.get("/planner?region=999999")
    assert r.status_code == 400 and r.mimetype == "text/html"
    html = r.get_data(as_text=True)
    assert "“统计范围”的值无效" in html and 'data-field="region"' in html


def test_api_page_and_downloads_say_the_region(scope_client):
    q = f"region={DENGFENG}&demand=walkers&radius={RADIUS:g}&n=2"
    body = planned(scope_client, f"/api/v1/suggest?{q}").json
    assert body["region"] == {"adcode": DENGFENG, "name": "郑州市 登封市"}
    assert body["params"]["region"] == DENGFENG
    assert [r["county_adcode"] for r in body["regions"]] == [DENGFENG]
    whole = planned(scope_client, f"/api/v1/suggest?{q.replace(DENGFENG, '410000')}").json
    assert whole["region"]["adcode"] == "410000" and len(whole["regions"]) == 157
    csv = planned(scope_client, f"/planner/download/counties.csv?{q}")
    assert csv.status_code == 200
    name = unquote(csv.headers["Content-Disposition"].split("filename*=UTF-8''")[1])
    assert name.startswith(f"郑州市登封市-{DENGFENG}-")
    df = pd.read_csv(io.BytesIO(csv.data), encoding="utf-8-sig", dtype=str)
    assert set(df["统计范围"]) == {f"郑州市 登封市（{DENGFENG}）"}
    assert list(df["县级区划代码"]) == [DENGFENG]
    en = planned(scope_client, f"/planner/download/suggestions.csv?{q}&lang=en")
    assert "Area" in pd.read_csv(io.BytesIO(en.data), encoding="utf-8-sig").columns
    xl = planned(scope_client, f"/planner/download/all.xlsx?{q}")
    about = pd.read_excel(io.BytesIO(xl.data), sheet_name="说明")
    assert f"郑州市 登封市（{DENGFENG}）" in about.iloc[:, 1].tolist()
    page = planned(scope_client, f"/planner?{q}").get_data(as_text=True)
    assert f'<option value="{DENGFENG}" selected>' in page
    assert 'id="scope-name">郑州市 登封市<' in page
    assert f"region={DENGFENG}" in page  # the downloads keep the scope


def test_region_is_documented_with_every_code(scope_client):
    doc = scope_client.get("/openapi.json").json
    for path in ("/api/v1/coverage", "/api/v1/suggest", "/planner",
                 "/planner/download/{what}.{fmt}"):
        got = {p["name"]: p for p in doc["paths"][path]["get"]["parameters"]}["region"]
        assert got["schema"]["enum"][0] == "410000"
        assert {DENGFENG, ZHENGZHOU, "419001"} <= set(got["schema"]["enum"])
        assert len(got["schema"]["enum"]) == 1 + 18 + 156


def test_cli_region(runner, monkeypatch, tmp_path):
    monkeypatch.setenv("LOCATOR_GRID_CELL_M", "2000")
    out = tmp_path / "c.csv"
    res = runner.invoke(main, ["coverage", "--region", ZHENGZHOU, "--radius", "2000",
                               "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "limited to 郑州市 (410100)" in res.output
    assert len(pd.read_csv(out, encoding="utf-8-sig")) == 12
    bad = runner.invoke(main, ["suggest", "--region", "123456", "--n", "2"])
    assert bad.exit_code == 2 and '"field": "region"' in bad.output


def test_a_county_population_table_is_cut_to_the_area():
    """The census table names all 157 counties: a scoped run takes the area's share of it."""
    cfg = config.load()
    pop = cfg["POPULATION_PATH"]
    table = pd.read_csv(pop, dtype={"adcode": str})
    cfg = {**cfg, "GRID_CELL_M": 2000.0}
    p = runs.parse({"region": ZHENGZHOU, "demand": "population", "radius": "1000"}, cfg,
                   with_n=False)
    plan = runs.run(p, dataset.read(DEMO), cfg)
    city = set(_boundaries().query("city_adcode == @ZHENGZHOU")["county_adcode"])
    want = table.loc[table["adcode"].isin(city), "pop2020"].sum()
    assert plan.province["demand"] == pytest.approx(want, rel=1e-9)
    got = plan.counties.set_index("county_adcode")["demand"]
    for code, n in table.loc[table["adcode"].isin(city), ["adcode", "pop2020"]].itertuples(
            index=False):
        assert got[code] == pytest.approx(n, rel=1e-9), code
