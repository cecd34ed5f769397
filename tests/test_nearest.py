"""Nearest search against a brute-force geodesic over every station."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import orjson
import pytest
from pyproj import Geod

from locator.domain import hours, schema
from locator.geo import datum
from locator.stations.dataset import CLOSED, TEMP_CLOSED
from locator.stations.index import NearestIndex
from locator.stations.nearest import NearestQuery, find_nearest

GEOD = Geod(ellps="WGS84")
W, S, E, N = datum.HENAN_BBOX


def brute(lon, lat, lons, lats, keep, k, max_d=None):
    idx = np.flatnonzero(keep)
    _, _, d = GEOD.inv(np.full(len(idx), lon), np.full(len(idx), lat), lons[idx], lats[idx])
    if max_d is not None:
        idx, d = idx[d <= max_d], d[d <= max_d]
    order = np.lexsort((idx, d))[:k]
    return idx[order], d[order]


def test_index_matches_brute_force_on_random_points():
    rng = np.random.default_rng(7)
    n = 5000
    lons, lats = rng.uniform(W, E, n), rng.uniform(S, N, n)
    kinds = rng.integers(0, 3, n)
    idx = NearestIndex(lons, lats, kinds)
    for _ in range(200):
        lon, lat = rng.uniform(W, E), rng.uniform(S, N)
        k = int(rng.integers(1, 51))
        hits = idx.query(lon, lat, k=k)
        want_rows, want_d = brute(lon, lat, lons, lats, np.ones(n, bool), k)
        np.testing.assert_allclose(hits.distance_m, want_d, rtol=0, atol=1e-6)
        assert set(hits.rows.tolist()) == set(want_rows.tolist()) or np.allclose(
            np.sort(hits.distance_m), np.sort(want_d))


def test_filters_and_radius_match_brute_force():
    rng = np.random.default_rng(11)
    n = 8000
    lons, lats = rng.uniform(W, E, n), rng.uniform(S, N, n)
    kinds = rng.integers(0, 3, n)
    amen = rng.integers(0, 16, n)
    idx = NearestIndex(lons, lats, kinds)
    for _ in range(150):
        lon, lat = rng.uniform(W, E), rng.uniform(S, N)
        want_kind = int(rng.integers(0, 3))
        need = int(rng.choice([1, 3, 12, 15]))
        mask = (amen & need) == need
        max_d = float(rng.choice([5_000, 30_000, 200_000]))
        hits = idx.query(lon, lat, k=10, kinds=[want_kind],
                         accept=lambda r, m=mask: m[r], max_distance_m=max_d)
        want_rows, want_d = brute(lon, lat, lons, lats, mask & (kinds == want_kind), 10, max_d)
        assert len(hits.rows) == len(want_rows)
        np.testing.assert_allclose(hits.distance_m, want_d, rtol=0, atol=1e-6)
        assert (kinds[hits.rows] == want_kind).all()
        assert ((amen[hits.rows] & need) == need).all()


def test_rare_filter_widens_until_exact():
    rng = np.random.default_rng(3)
    n = 20000
    lons, lats = rng.uniform(W, E, n), rng.uniform(S, N, n)
    mask = np.zeros(n, bool)
    mask[rng.choice(n, 5, replace=False)] = True
    idx = NearestIndex(lons, lats, np.zeros(n, int))
    hits = idx.query(113.6, 34.7, k=10, accept=lambda r: mask[r])
    want_rows, want_d = brute(113.6, 34.7, lons, lats, mask, 10)
    assert hits.rows.tolist() == want_rows.tolist()
    np.testing.assert_allclose(hits.distance_m, want_d, atol=1e-6)


def test_find_nearest_on_demo_data_matches_brute_force(demo_dataset):
    ds = demo_dataset
    rng = np.random.default_rng(5)
    when = datetime(2026, 3, 4, 3, 0, tzinfo=UTC)  # 11:00 in Henan, a Wednesday
    states = hours.evaluate_unique(ds.hours_values, when)
    open_rows = np.array([states[ds.hours_values[c]] == "open" for c in ds.hours_code])
    for _ in range(60):
        lon, lat = rng.uniform(112.5, 115.5), rng.uniform(32.5, 35.8)
        kind = str(rng.choice(schema.KIND_CODES))
        q = NearestQuery(lon=lon, lat=lat, k=8, kinds=[kind],
                         amenity_mask=schema.AMENITY_BIT["drinking_water"]
                         | schema.AMENITY_BIT["toilet"], open_now=True, when=when)
        fc = find_nearest(ds, q, with_links=False)
        keep = ((ds.kind == schema.KIND_INDEX[kind]) & (ds.status != CLOSED)
                & (ds.status != TEMP_CLOSED) & open_rows
                & ((ds.amenities & q.amenity_mask) == q.amenity_mask))
        _, want_d = brute(lon, lat, ds.lon, ds.lat, keep, 8)
        got = np.array([f["properties"]["distance_m"] for f in fc["features"]])
        np.testing.assert_allclose(got, want_d, atol=0.06)
        for f in fc["features"]:
            p = f["properties"]
            assert p["open_now"] is True and p["kind"] == kind
            assert {"drinking_water", "toilet"} <= set(p["amenities"])


def test_temporarily_closed_on_request_match_brute_force(demo_dataset):
    """Open and temporarily closed stations live in separate trees; asked for
    together, they rank as one list over both, with every filter applied."""
    ds = demo_dataset
    rng = np.random.default_rng(12)
    serving = ds.status != CLOSED
    water = schema.AMENITY_BIT["drinking_water"]
    for i in range(80):
        lon, lat = rng.uniform(112.0, 116.0), rng.uniform(32.0, 36.0)
        kinds = [] if i % 3 else [str(rng.choice(schema.KIND_CODES))]
        need = water if i % 4 == 1 else 0
        max_d = 8_000.0 if i % 5 == 2 else None
        q = NearestQuery(lon=lon, lat=lat, k=int(rng.integers(1, 30)), kinds=kinds,
                         amenity_mask=need, max_distance_m=max_d,
                         include_temporarily_closed=True)
        fc = find_nearest(ds, q, with_links=False)
        keep = serving & ((ds.amenities & need) == need)
        if kinds:
            keep &= ds.kind == schema.KIND_INDEX[kinds[0]]
        want_rows, want_d = brute(lon, lat, ds.lon, ds.lat, keep, q.k, max_d)
        got = [f["id"] for f in fc["features"]]
        assert got == take_ids(ds, want_rows)
        np.testing.assert_allclose([f["properties"]["distance_m"] for f in fc["features"]],
                                   want_d, atol=0.06)


def take_ids(ds, rows):
    return [ds.record(int(r))["id"] for r in rows]


def test_walk_time_bearing_and_datum_of_query(demo_dataset):
    ds = demo_dataset
    lon, lat = 113.6254, 34.7466
    gx, gy = datum.wgs84_to_gcj02(lon, lat)
    a = find_nearest(ds, NearestQuery(lon=lon, lat=lat, k=5), with_links=False)
    b = find_nearest(ds, NearestQuery(lon=float(gx), lat=float(gy), k=5, crs="gcj02"),
                     with_links=False)
    assert [f["id"] for f in a["features"]] == [f["id"] for f in b["features"]]
    for f in a["features"]:
        p = f["properties"]
        x, y = f["geometry"]["coordinates"]
        az, _, d = GEOD.inv(lon, lat, x, y)
        assert p["distance_m"] == pytest.approx(d, abs=0.1)
        assert p["bearing_deg"] == pytest.approx(az % 360, abs=0.1)
        assert p["walk_min"] == int(np.ceil(d * 1.3 / 75.0))


def test_closed_never_and_temporarily_closed_on_request(demo_dataset):
    ds = demo_dataset
    closed = np.flatnonzero(ds.status == CLOSED)
    temp = np.flatnonzero(ds.status == TEMP_CLOSED)
    assert len(closed) and len(temp)
    # Standing right on top of a closed station must not return it.
    r = int(closed[0])
    fc = find_nearest(ds, NearestQuery(lon=ds.lon[r], lat=ds.lat[r], k=50), with_links=False)
    assert ds.frame["id"].iloc[r] not in {f["id"] for f in fc["features"]}
    t = int(temp[0])
    q = {"lon": ds.lon[t], "lat": ds.lat[t], "k": 3, "kinds": [ds.frame["kind"].iloc[t]]}
    off = find_nearest(ds, NearestQuery(**q), with_links=False)
    on = find_nearest(ds, NearestQuery(**q, include_temporarily_closed=True), with_links=False)
    tid = ds.frame["id"].iloc[t]
    assert tid not in {f["id"] for f in off["features"]}
    assert on["features"][0]["id"] == tid


def test_cached_links_equal_links_built_from_scratch(demo_dataset):
    from locator.stations import navigation

    ds = demo_dataset
    for row in (0, 777, len(ds) - 1):
        mode = "drive" if ds.record(row)["kind"] == "driver_home" else "walk"
        want = navigation.links(float(ds.lon[row]), float(ds.lat[row]),
                                name=ds.record(row)["name"], mode=mode)
        assert ds.links(row) == {s: {"app": v["app"], "web": v["web"]} for s, v in want.items()}
        assert ds.links(row)["amap"]["web"] == want["amap"]["wechat_safe"]


def test_no_walking_minutes_past_the_walking_limit(demo_dataset):
    # Wuhan, 200+ km south of the nearest Henan station.
    lon, lat = 114.3055, 30.5928
    fc = find_nearest(demo_dataset, NearestQuery(lon=lon, lat=lat, k=3), with_links=False)
    for f in fc["features"]:
        x, y = f["geometry"]["coordinates"]
        _, _, d = GEOD.inv(lon, lat, x, y)
        assert d > 100_000
        assert f["properties"]["distance_m"] == pytest.approx(d, abs=0.1)
        assert f["properties"]["walk_min"] is None


@pytest.mark.parametrize("query", [
    "lat=34.7536&lon=113.6645&k=10",
    "lat=34.7536&lon=113.6645&k=50&links=web&out_crs=gcj02&lang=en&order=open_first",
    "lat=32.1&lon=114.07&k=7&links=none&kind=driver_home&crs=bd09",
    "lat=40.0&lon=100.0&k=3&include_temporarily_closed=true",
])
def test_served_answer_equals_one_built_from_scratch(client, app, query):
    """The served list splices each station's prebuilt JSON with the per-request
    values; it must say exactly what building every feature afresh says."""
    from urllib.parse import parse_qs

    from locator.geo import regions
    from locator.living import flags
    from locator.stations.dataset import Dataset
    from locator.web import state

    got = client.get(f"/api/v1/nearest?{query}")
    assert got.status_code == 200
    body = got.get_json()
    a = {k: v[-1] for k, v in parse_qs(query).items()}
    with app.test_request_context():
        served = state.current()
        walking = state.walking()
    # A dataset of its own: nothing prebuilt, nothing cached.
    fresh = Dataset(served.frame, served.version)
    q = NearestQuery(lat=float(a["lat"]), lon=float(a["lon"]), k=int(a["k"]),
                     kinds=[a["kind"]] if "kind" in a else [], crs=a.get("crs", "wgs84"),
                     out_crs=a.get("out_crs", "wgs84"), lang=a.get("lang", "zh"),
                     include_temporarily_closed="include_temporarily_closed" in a)
    want = find_nearest(fresh, q, walking=walking, with_links=a.get("links", "all"),
                        open_first=a.get("order") == "open_first")
    for f in want["features"]:
        flags.decorate(f["properties"], flags.Flags())
    want["query"]["in_service_area"] = regions.in_service_area(
        want["query"]["lon"], want["query"]["lat"], app.config["BOUNDARIES_DIR"])
    assert body["numberReturned"] == len(want["features"]) > 0
    assert body == want
    # Asked again (now from the prebuilt text), the answer is the same.
    assert client.get(f"/api/v1/nearest?{query}").get_json() == body


def test_prebuilt_text_dies_with_its_dataset(demo_dataset):
    from locator.stations.dataset import Dataset

    q = NearestQuery(lat=34.7536, lon=113.6645, k=3)
    before = find_nearest(demo_dataset, q, serialised=True)
    sid = orjson.loads(orjson.dumps(before))["features"][0]["id"]
    frame = demo_dataset.frame.copy()
    renamed = "改名后的站点 <b>&amp;"
    frame.loc[frame["id"] == sid, "name"] = renamed
    after = find_nearest(Dataset(frame, "v2"), q, serialised=True)
    props = orjson.loads(orjson.dumps(after))["features"][0]["properties"]
    assert props["id"] == sid and props["name"] == renamed
    assert "%E6%94%B9%E5%90%8D" in props["navigation"]["amap"]["web"]
    old = orjson.loads(orjson.dumps(find_nearest(demo_dataset, q, serialised=True)))
    assert old["features"][0]["properties"]["name"] != renamed


def test_estimate_figures_are_numpys_rounding_and_ceiling():
    """The per-answer arithmetic on plain floats must give what numpy's
    ``round``, ``ceil`` and ``%`` give on arrays, halves included, and the
    formatted text must carry those values in the answer's order."""
    from locator.stations import prebuilt
    from locator.stations.nearest import (
        DRIVE_M_PER_MIN,
        MAX_WALK_M,
        Walking,
        _estimate_trips,
        _tails,
    )

    rng = np.random.default_rng(3)
    dist = np.concatenate([rng.uniform(0, 30_000, 5000), np.arange(0, 2000) * 0.05 + 0.05,
                           [0.0, 0.25, 0.35, 1e-9, 9999.95, 10_000.0, 10_000.05]])
    az = np.concatenate([rng.uniform(-180, 180, len(dist) - 5),
                         [-180.0, -0.05, -0.0, 179.95, 180.0]])
    n = len(dist)
    states = rng.choice([1, 0, -1], n)
    drive = rng.random(n) < 0.3
    walking = Walking(speed_m_per_min=70.0, detour_factor=1.4)
    args = (dist.tolist(), az.tolist(), states.tolist(), drive.tolist(), walking)
    got_columns = [list(c) for c in zip(*_estimate_trips(*args), strict=True)]
    walk_d = dist * walking.detour_factor
    minutes = np.ceil(walk_d / walking.speed_m_per_min).astype(int)
    want_columns = [np.round(dist, 1).tolist(), np.round(az % 360.0, 1).tolist(),
                    states.tolist(), minutes.tolist(), (dist <= MAX_WALK_M).tolist(),
                    np.round(walk_d).tolist(), ["estimate"] * n, drive.tolist(),
                    np.ceil(dist / DRIVE_M_PER_MIN).astype(int).tolist()]
    for g, w in zip(got_columns, want_columns, strict=True):
        assert g == w
        assert [type(v) for v in g] == [type(v) for v in w]

    text = prebuilt.features([b'{"properties":{'] * n,
                             _tails(_estimate_trips(*args), [b',"x":1'] * n))
    got = [f["properties"] for f in orjson.loads(orjson.dumps(text))]
    ok = dist <= MAX_WALK_M
    want = {"distance_m": np.round(dist, 1).tolist(),
            "bearing_deg": np.round(az % 360.0, 1).tolist(),
            "walk_min": [int(m) if o else None for m, o in zip(minutes, ok, strict=True)],
            "walk_distance_m": np.round(walk_d).tolist(),
            "walk_basis": ["estimate"] * n,
            "trip_mode": np.where(drive, "drive", "walk").tolist(),
            "open_now": [{1: True, 0: False, -1: None}[s] for s in states.tolist()],
            "x": [1] * n}
    for name, values in want.items():
        assert [p[name] for p in got] == values, name
        assert [type(p[name]) for p in got] == [type(v) for v in values], name
    drive_min = np.ceil(dist / DRIVE_M_PER_MIN).astype(int).tolist()
    assert [p.get("drive_min") for p in got] == [m if d else None for m, d in
                                                 zip(drive_min, drive, strict=True)]
    assert list(got[0]) == ["distance_m", "bearing_deg", "walk_min", "walk_distance_m",
                            "walk_basis", "trip_mode", *(["drive_min"] if drive[0] else []),
                            "open_now", "open_state", "x"]


def test_served_answers_equal_built_ones_at_many_points(client, app):
    """Across many points (towns, fields, far outside), the text spliced from
    prebuilt heads and formatted tails says what encoding whole dicts says."""
    from locator.living import flags
    from locator.stations.dataset import Dataset
    from locator.web import state

    with app.test_request_context():
        served = state.current()
        walking = state.walking()
    fresh = Dataset(served.frame, served.version)
    rng = np.random.default_rng(11)
    for lon, lat in zip(rng.uniform(W - 3, E + 3, 60), rng.uniform(S - 3, N + 3, 60),
                        strict=True):
        body = client.get(f"/api/v1/nearest?lat={lat:.6f}&lon={lon:.6f}&k=25").get_json()
        want = find_nearest(fresh, NearestQuery(lat=float(f"{lat:.6f}"), lon=float(f"{lon:.6f}"),
                                                k=25), walking=walking)
        for f in want["features"]:
            flags.decorate(f["properties"], flags.Flags())
        assert body["features"] == want["features"]
