"""Suggested sites in open country named by the nearest named place of the OSM extract.

The extract is pyrosm's ``test_pbf`` (Karhula, Kotka: © OpenStreetMap contributors,
ODbL 1.0). The oracle reads its place nodes with pyosmium, not through our names
index, and measures every site-place pair on the WGS-84 ellipsoid with pyproj.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Geod

from locator import create_app
from locator.geo import osmnames
from locator.geo.network import build, graph
from locator.planning import names
from locator.stations import osm_search
from tests.conftest import DEMO
from tests.jobclient import planned
from tests.test_site_names import METRIC, _named_edges

pyrosm = pytest.importorskip("pyrosm")
GEOD = Geod(ellps="WGS84")


def _places(path: str) -> pd.DataFrame:
    """Every named place node of the extract, read with pyosmium."""
    import osmium

    rows = [(o.tags["name"], o.location.lon, o.location.lat)
            for o in osmium.FileProcessor(path, osmium.osm.NODE)
            if "place" in o.tags and "name" in o.tags]
    return pd.DataFrame(rows, columns=["name", "lon", "lat"])


def _oracle(places: pd.DataFrame, lon: float, lat: float) -> tuple[str, float, float]:
    """Nearest place name, its distance and the next place's distance (m, ellipsoid)."""
    n = len(places)
    _, _, d = GEOD.inv(np.full(n, lon), np.full(n, lat), places["lon"], places["lat"])
    order = np.argsort(d)
    return (str(places["name"].iloc[order[0]]), float(d[order[0]]),
            float(d[order[1]]) if n > 1 else np.inf)


def test_the_names_index_holds_the_extracts_places():
    path = pyrosm.get_data("test_pbf")
    idx = osm_search.build(osmnames.read(path))
    got = sorted(idx.label[idx.kind == osmnames.KINDS.index(osmnames.PLACE)].tolist())
    assert got == sorted(_places(path)["name"].tolist())
    assert len(got) == 6


def test_nearest_place_matches_a_brute_force_search():
    path = pyrosm.get_data("test_pbf")
    idx = osm_search.build(osmnames.read(path))
    places = _places(path)
    rng = np.random.default_rng(11)
    lon = rng.uniform(places["lon"].min() - 0.08, places["lon"].max() + 0.08, 400)
    lat = rng.uniform(places["lat"].min() - 0.04, places["lat"].max() + 0.04, 400)
    got, dist = names.nearest_places(idx, lon, lat)
    checked = beyond = 0
    for k in range(len(lon)):
        want, d1, d2 = _oracle(places, lon[k], lat[k])
        # Sphere against ellipsoid: a few metres per kilometre; near-ties and
        # near-bound cases could go either way.
        slack = 0.006 * d1 + 1.0
        if d2 - d1 < 2 * slack or abs(d1 - names.PLACE_MAX_M) < slack:
            continue
        if d1 <= names.PLACE_MAX_M:
            assert got[k] == want, k
            assert abs(dist[k] - d1) <= slack, k
            checked += 1
        else:
            assert got[k] == "" and np.isinf(dist[k]), k
            beyond += 1
    assert checked > 100 and beyond > 20
    assert names.nearest_places(None, lon[:3], lat[:3])[0].tolist() == ["", "", ""]


@pytest.fixture(scope="module")
def open_country(tmp_path_factory):
    """The extract's graph and names index moved onto 郑州市 金水区, and walkers in the
    fields a kilometre or more west and south of its streets."""
    path = pyrosm.get_data("test_pbf")
    g = build.read_osm(path, mode="walk")
    dlon, dlat = 113.69 - float(np.median(g.lon)), 34.80 - float(np.median(g.lat))
    edges = _named_edges(path, g)
    west, south = float(g.lon.min()) + dlon, float(g.lat.min()) + dlat
    g.lon, g.lat = g.lon + dlon, g.lat + dlat
    edges["geometry"] = shapely.transform(edges.geometry.to_numpy(),
                                          lambda xy: xy + np.array([dlon, dlat]))
    table = osmnames.read(path)
    moved = osmnames.OsmNames(table.name, table.kind, table.lon + dlon, table.lat + dlat,
                              table.source)
    folder = tmp_path_factory.mktemp("places")
    saved = graph.save(g, folder / "networks")
    index = osm_search.save(osm_search.build(moved), folder / "osm_names")
    places = _places(path)
    places["lon"] += dlon
    places["lat"] += dlat
    # 1.1-1.6 km west of the westernmost street node (0.011 deg of longitude is
    # about 1 km here), and south of the southernmost, spread along the edge.
    k = np.arange(6)
    lon = np.r_[np.full(6, west - 0.012 - 0.001 * k), np.linspace(west, west + 0.03, 6)]
    lat = np.r_[np.linspace(south, south + 0.02, 6), np.full(6, south - 0.010 - 0.001 * k)]
    pd.DataFrame({"lon": lon, "lat": lat, "weight": 500}).to_csv(folder / "walkers.csv",
                                                                  index=False)
    app = create_app({"TESTING": True, "DATA_PATH": str(DEMO), "TILES": "osm",
                      "GRID_CELL_M": 250.0, "NETWORK_PATH": str(saved),
                      "OSM_NAMES_PATH": str(index), "DEMAND_DIR": str(folder),
                      "POPULATION_PATH": str(folder / "absent.csv"),
                      "SUGGEST_TIME_LIMIT": 2.0, "RATE_LIMIT_ENABLED": False})
    return app.test_client(), edges.set_crs("EPSG:4326", allow_override=True).to_crs(METRIC), \
        places


def test_a_site_in_open_country_is_named_by_the_nearest_village(open_country):
    client, edges, places = open_country
    q = "region=410105&demand=walkers&radius=300&n=6&distance=straight"
    sites = pd.DataFrame(planned(client, f"/api/v1/suggest?{q}").json["suggestions"])
    assert len(sites) >= 4
    pts = gpd.GeoSeries(gpd.points_from_xy(sites["lon"], sites["lat"]), crs="EPSG:4326"
                        ).to_crs(METRIC).to_numpy()
    road_m = np.array([shapely.distance(p, edges.geometry.to_numpy()).min() for p in pts])
    zh, en = names.label(sites, "zh"), names.label(sites, "en")
    page = planned(client, f"/planner?{q}").get_data(as_text=True)
    checked = 0
    for k in range(len(sites)):
        if road_m[k] <= names.MAX_M:
            continue
        # No named road within reach: the nearest village names the site.
        assert sites["road"][k] == ""
        want, d1, d2 = _oracle(places, sites["lon"][k], sites["lat"][k])
        assert d1 <= names.PLACE_MAX_M and d2 - d1 > 20, (k, d1, d2)
        assert sites["place"][k] == want
        assert zh[k] == f"郑州市 金水区 · {want}附近"
        assert en[k] == f"Zhengzhou Jinshui District · near {want}"
        assert f'<span class="site-name">{zh[k]}</span>' in page
        checked += 1
    assert checked >= 3
