"""The JSON API: shapes, validation and the one error body."""

from __future__ import annotations

import pytest

from locator.errors import error_body
from locator.geo import datum

ERROR_KEYS = ["status", "code", "message", "field"]
ERLANG = (113.6645, 34.7536)


def test_error_shape_is_pinned(client):
    r = client.get("/api/v1/nearest?lat=91&lon=113")
    assert r.status_code == 400
    body = r.get_json()
    assert list(body) == ERROR_KEYS
    assert body["status"] == 400 and body["code"] == "invalid_parameter"
    assert body["field"] == "lat" and "between -90 and 90" in body["message"]
    assert list(error_body(404, "not_found", "x")) == ERROR_KEYS


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("lat=95&lon=113", "lat"),
        ("lat=-91&lon=113", "lat"),
        ("lat=34&lon=181", "lon"),
        ("lat=NaN&lon=113", "lat"),
        ("lat=34&lon=inf", "lon"),
        ("lat=abc&lon=113", "lat"),
        ("lon=113", "lat"),
        ("lat=34&lon=113&k=0", "k"),
        ("lat=34&lon=113&k=51", "k"),
        ("lat=34&lon=113&k=2.5", "k"),
        ("lat=34&lon=113&kind=hotel", "kind"),
        ("lat=34&lon=113&amenity=sauna", "amenity"),
        ("lat=34&lon=113&amenity=toilet&amenity=jacuzzi", "amenity"),
        ("lat=34&lon=113&crs=utm", "crs"),
        ("lat=34&lon=113&open_now=maybe", "open_now"),
        ("lat=34&lon=113&max_distance_m=-5", "max_distance_m"),
        ("lat=34&lon=113&out_crs=mars", "out_crs"),
    ],
)
def test_bad_input_gets_400_naming_field(client, query, field):
    r = client.get(f"/api/v1/nearest?{query}")
    assert r.status_code == 400, r.get_json()
    body = r.get_json()
    assert body["field"] == field
    assert body["status"] == 400 and body["message"]


def test_unknown_station_and_route_are_json_404(client):
    r = client.get("/api/v1/stations/no-such-id")
    assert r.status_code == 404 and r.get_json()["field"] == "id"
    r = client.get("/api/v1/nowhere")
    assert r.status_code == 404 and list(r.get_json()) == ERROR_KEYS
    r = client.post("/api/v1/nearest")
    assert r.status_code == 405 and list(r.get_json()) == ERROR_KEYS


def test_nearest_feature_collection(client):
    r = client.get(f"/api/v1/nearest?lat={ERLANG[1]}&lon={ERLANG[0]}&k=5"
                   "&amenity=drinking_water&amenity=toilet&kind=rest_station")
    assert r.status_code == 200
    fc = r.get_json()
    assert fc["type"] == "FeatureCollection" and fc["numberReturned"] == 5
    assert fc["dataset"]["demo"] is True and "演示数据" in fc["dataset"]["notice"]
    dists = [f["properties"]["distance_m"] for f in fc["features"]]
    assert dists == sorted(dists)
    for f in fc["features"]:
        p = f["properties"]
        assert {"drinking_water", "toilet"} <= set(p["amenities"])
        assert p["kind"] == "rest_station" and p["demo"] is True
        assert p["open_state"] in {"open", "closed", "unknown"}
        assert set(p["navigation"]) == {"amap", "baidu", "tencent", "osm"}
        assert p["status"] != "closed"
        for key in ("distance_m", "bearing_deg", "walk_min", "open_now", "county_adcode"):
            assert key in p


def test_out_crs_shifts_geometry_into_gcj02(client):
    base = f"/api/v1/nearest?lat={ERLANG[1]}&lon={ERLANG[0]}&k=3"
    w = client.get(base).get_json()
    g = client.get(base + "&out_crs=gcj02").get_json()
    assert g["coordinates_datum"] == "gcj02"
    for fw, fg in zip(w["features"], g["features"], strict=True):
        x, y = datum.wgs84_to_gcj02(*fw["geometry"]["coordinates"])
        assert fg["geometry"]["coordinates"] == pytest.approx([x, y], abs=2e-7)


def test_station_by_id_round_trips(client):
    fc = client.get(f"/api/v1/nearest?lat={ERLANG[1]}&lon={ERLANG[0]}&k=1").get_json()
    sid = fc["features"][0]["id"]
    f = client.get(f"/api/v1/stations/{sid}").get_json()
    assert f["id"] == sid and f["properties"]["name"] == fc["features"][0]["properties"]["name"]


def test_viewport_points_and_clusters(client):
    small = client.get("/api/v1/stations?bbox=113.65,34.74,113.68,34.77").get_json()
    assert small["clustered"] is False
    assert small["numberMatched"] == small["numberReturned"]
    for f in small["features"]:
        x, y = f["geometry"]["coordinates"]
        assert 113.65 <= x <= 113.68 and 34.74 <= y <= 34.77
        assert f["properties"]["status"] != "closed"
    big = client.get("/api/v1/stations?bbox=110,31,117,37&limit=100").get_json()
    assert big["clustered"] is True
    assert sum(f["properties"]["count"] for f in big["features"]) == big["numberMatched"]
    for bad in ("1,2,3", "a,b,c,d", "113,35,200,36", ""):
        r = client.get(f"/api/v1/stations?bbox={bad}")
        assert r.status_code == 400 and r.get_json()["field"] == "bbox"
    # Two opposite corners name one box, whichever comes first.
    swapped = client.get("/api/v1/stations?bbox=113.68,34.77,113.65,34.74").get_json()
    assert swapped["features"] == small["features"]


def test_convert_endpoint(client):
    r = client.get("/api/v1/convert?lat=34.75&lon=113.66&from=wgs84&to=bd09").get_json()
    x, y = datum.wgs84_to_bd09(113.66, 34.75)
    assert (r["lon"], r["lat"]) == pytest.approx((x, y), abs=1e-6)
    assert client.get("/api/v1/convert?lat=34&lon=113&to=x").get_json()["field"] == "to"


def test_hostile_strings_come_back_verbatim_in_json(small_client):
    from tests.conftest import HOSTILE_NAME

    fc = small_client.get("/api/v1/nearest?lat=34.7536&lon=113.6645&k=1").get_json()
    assert fc["features"][0]["properties"]["name"] == HOSTILE_NAME


def test_small_dataset_status_rules(small_client):
    fc = small_client.get("/api/v1/nearest?lat=34.7536&lon=113.6645&k=50").get_json()
    statuses = {f["properties"]["status"] for f in fc["features"]}
    assert statuses == {"open"}
    fc = small_client.get("/api/v1/nearest?lat=34.7536&lon=113.6645&k=50"
                          "&include_temporarily_closed=true").get_json()
    assert {f["properties"]["status"] for f in fc["features"]} == {"open", "temporarily_closed"}
    unknown = [f for f in fc["features"] if f["properties"]["opening_hours"] is None]
    assert unknown and all(f["properties"]["open_now"] is None for f in unknown)
    fc = small_client.get("/api/v1/nearest?lat=34.7536&lon=113.6645&open_now=1").get_json()
    assert all(f["properties"]["open_now"] is True for f in fc["features"])


def test_every_route_answers_without_500_on_junk(client):
    junk = ["%00", "'", "\u202e", "9" * 400, "1e999", "-0", "[]", "{}", "<script>"]
    for path in ("/api/v1/nearest", "/api/v1/stations", "/api/v1/convert", "/"):
        for key in ("lat", "lon", "k", "kind", "amenity", "crs", "bbox", "limit", "out_crs"):
            for value in junk:
                r = client.get(path, query_string={"lat": "34.7", "lon": "113.6", key: value})
                assert r.status_code < 500, (path, key, value)


def test_viewport_features_are_slim_and_grid_is_validated(client):
    fc = client.get("/api/v1/stations?bbox=113.65,34.74,113.68,34.77").get_json()
    assert fc["features"]
    for f in fc["features"]:
        assert set(f["properties"]) == {"id", "kind", "name", "address", "opening_hours",
                                        "opening_hours_text", "status", "access", "demo",
                                        "reported", "last_verified"}
    coarse = client.get("/api/v1/stations?bbox=110,31,117,37&limit=100&grid=3").get_json()
    assert coarse["clustered"] and len(coarse["features"]) <= 9
    assert sum(f["properties"]["count"] for f in coarse["features"]) == coarse["numberMatched"]
    for bad in ("1", "33", "x"):
        r = client.get(f"/api/v1/stations?bbox=110,31,117,37&grid={bad}")
        assert r.status_code == 400 and r.get_json()["field"] == "grid"


def test_nearest_answer_stays_small_for_weak_networks(client):
    r = client.get(f"/api/v1/nearest?lat={ERLANG[1]}&lon={ERLANG[0]}&k=10")
    assert len(r.data) < 40_000
    for f in r.get_json()["features"]:
        for links in f["properties"]["navigation"].values():
            assert set(links) == {"app", "web"} and links["web"].startswith("https://")


def test_gzip_when_asked_plain_otherwise(client):
    import gzip
    import json

    path = f"/api/v1/nearest?lat={ERLANG[1]}&lon={ERLANG[0]}&k=10"
    plain = client.get(path)
    assert "Content-Encoding" not in plain.headers
    zipped = client.get(path, headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in zipped.headers["Vary"]
    assert len(zipped.data) < len(plain.data) / 3
    assert json.loads(gzip.decompress(zipped.data)) == plain.get_json()


def test_links_parameter(client):
    base = f"/api/v1/nearest?lat={ERLANG[1]}&lon={ERLANG[0]}&k=3"
    full = client.get(base).get_json()["features"]
    web = client.get(base + "&links=web").get_json()["features"]
    none = client.get(base + "&links=none").get_json()["features"]
    for f, w, n in zip(full, web, none, strict=True):
        assert {s: {"web": v["web"]} for s, v in f["properties"]["navigation"].items()} == \
            w["properties"]["navigation"]
        assert "navigation" not in n["properties"]
    r = client.get(base + "&links=some")
    assert r.status_code == 400 and r.get_json()["field"] == "links"


def test_viewport_labels_follow_lang(small_client):
    box = "/api/v1/stations?bbox=113.6,34.7,113.7,34.8"
    zh = small_client.get(box).get_json()["features"]
    en = small_client.get(box + "&lang=en").get_json()["features"]
    room = [f for f in en if f["properties"]["kind"] == "reading_room"]
    assert room and room[0]["properties"]["opening_hours_text"].startswith("Mon–Fri")
    assert [f["id"] for f in zh] == [f["id"] for f in en]
    assert small_client.get(box + "&lang=xx").get_json()["field"] == "lang"


@pytest.mark.parametrize(("lon", "lat", "inside"), [
    (113.6254, 34.7466, True),    # Zhengzhou
    (114.3055, 30.5928, False),   # Wuhan, Hubei
    (116.4074, 39.9042, False),   # Beijing
])
def test_nearest_says_whether_the_point_is_in_the_service_area(client, lon, lat, inside):
    fc = client.get(f"/api/v1/nearest?lat={lat}&lon={lon}&k=2&links=none").get_json()
    assert fc["query"]["in_service_area"] is inside
    # The nearest stations are answered anyway.
    assert fc["numberReturned"] == 2


def test_service_area_answers_as_the_outline_does(app):
    """Cells remembered as wholly inside or outside must never change an
    answer: points all over and just around Henan, against the outline itself."""
    import geopandas as gpd
    import numpy as np
    import shapely

    from locator.geo import regions

    where = app.config["BOUNDARIES_DIR"]
    outline = gpd.read_file(f"{where}/{regions.PROVINCE_FILE}").geometry.make_valid().union_all()
    rng = np.random.default_rng(5)
    lon, lat = rng.uniform(109.5, 117.5, 20_000), rng.uniform(30.5, 37.5, 20_000)
    # And points within a few hundred metres of the border, where cells are mixed.
    ring = np.repeat(shapely.get_coordinates(outline.boundary), 5, axis=0)
    near = ring + rng.normal(0, 0.003, ring.shape)
    lon, lat = np.concatenate([lon, near[:, 0]]), np.concatenate([lat, near[:, 1]])
    want = shapely.contains_xy(outline, lon, lat)
    got = np.array([regions.in_service_area(x, y, where) for x, y in zip(lon, lat, strict=True)])
    assert want.any() and not want.all()
    assert (got == want).all()


def test_a_basic_nearest_query_is_still_validated(client):
    for bad, field in (("lat=91&lon=113", "lat"), ("lat=34&lon=113&k=0", "k"),
                       ("lon=113", "lat"), ("lat=34&lon=abc", "lon")):
        got = client.get(f"/api/v1/nearest?{bad}")
        assert got.status_code == 400 and got.get_json()["field"] == field, bad
