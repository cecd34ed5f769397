"""Navigation deep links: datum per service, encoding of untrusted names, https."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest
from pyproj import Geod

from locator.geo import datum
from locator.stations import navigation

GEOD = Geod(ellps="WGS84")
LON, LAT = 113.6254, 34.7466  # Zhengzhou, WGS-84
ORIGIN = (113.6180, 34.7402)
HOSTILE = "<img src=x onerror=alert(1)>&x=1#"
TOL = 1e-6


def query(url: str) -> dict[str, str]:
    """Single-valued query parameters; fails on duplicates."""
    parts = urlsplit(url)
    parsed = parse_qs(parts.query, keep_blank_values=True, strict_parsing=True)
    assert all(len(v) == 1 for v in parsed.values()), parsed
    return {k: v[0] for k, v in parsed.items()}


def pair(text: str) -> tuple[float, float]:
    a, b = text.split(",")
    return float(a), float(b)


def close(got: tuple[float, float], want: tuple[float, float]) -> bool:
    return abs(got[0] - want[0]) <= TOL and abs(got[1] - want[1]) <= TOL


@pytest.fixture(params=[None, ORIGIN], ids=["no-origin", "origin"])
def origin(request):
    return request.param


@pytest.fixture
def result(origin):
    return navigation.links(LON, LAT, name="工会户外劳动者驿站", origin=origin)


def test_shape(result):
    assert tuple(result) == navigation.SERVICES == ("amap", "baidu", "tencent", "osm")
    for service in result.values():
        assert set(service) == {"app", "web", "wechat_safe", "marker"}
        assert service["wechat_safe"] == service["web"]


def test_web_links_are_https(result):
    for name, service in result.items():
        for key in ("web", "wechat_safe", "marker"):
            parts = urlsplit(service[key])
            assert parts.scheme == "https" and parts.netloc, (name, key)
    schemes = {name: urlsplit(s["app"]).scheme for name, s in result.items()}
    assert schemes == {"amap": "amapuri", "baidu": "baidumap", "tencent": "qqmap", "osm": "geo"}


def test_amap_uses_gcj02(result, origin):
    gcj = datum.wgs84_to_gcj02(LON, LAT)
    web = query(result["amap"]["web"])
    assert urlsplit(result["amap"]["web"]).netloc == "uri.amap.com"
    lon, lat, _ = web["to"].split(",", 2)
    assert close((float(lon), float(lat)), gcj)
    assert web["mode"] == "walk" and web["coordinate"] == "gaode" and web["src"] == "locator"
    app = query(result["amap"]["app"])
    assert close((float(app["dlon"]), float(app["dlat"])), gcj)
    assert app["t"] == "2" and app["dev"] == "0"
    marker = query(result["amap"]["marker"])
    assert close(pair(marker["position"]), gcj)
    if origin is not None:
        olon, olat, _ = web["from"].split(",", 2)
        assert close((float(olon), float(olat)), datum.wgs84_to_gcj02(*origin))
        assert close((float(app["slon"]), float(app["slat"])), datum.wgs84_to_gcj02(*origin))
    else:
        assert "from" not in web and "slat" not in app


def baidu_latlng(value: str) -> tuple[float, float]:
    head, _, _ = value.partition("|")
    assert head.startswith("latlng:")
    lat, lon = pair(head.removeprefix("latlng:"))
    return lon, lat


def test_baidu_uses_bd09(result, origin):
    bd = datum.wgs84_to_bd09(LON, LAT)
    gcj = datum.wgs84_to_gcj02(LON, LAT)
    app = query(result["baidu"]["app"])
    assert close(baidu_latlng(app["destination"]), bd)
    assert app["coord_type"] == "bd09ll" and app["mode"] == "walking"
    marker = query(result["baidu"]["marker"])
    lat, lon = pair(marker["location"])
    assert close((lon, lat), bd) and marker["coord_type"] == "bd09ll"
    # BD-09 is a real, separate datum: hundreds of metres from GCJ-02.
    apart = GEOD.inv(*bd, *gcj)[2]
    assert 300 < apart < 1500
    web = query(result["baidu"]["web"])
    # Always a route, never the marker page: the destination in BD-09, and the
    # start point only when one was given (Baidu then starts from the user).
    assert urlsplit(result["baidu"]["web"]).path == "/direction"
    assert close(baidu_latlng(web["destination"]), bd)
    assert web["mode"] == "walking" and web["output"] == "html"
    assert web["coord_type"] == "bd09ll"
    if origin is None:
        assert "origin" not in web
    else:
        assert close(baidu_latlng(web["origin"]), datum.wgs84_to_bd09(*origin))


def test_tencent_uses_gcj02(result, origin):
    gcj = datum.wgs84_to_gcj02(LON, LAT)
    for key in ("web", "app"):
        params = query(result["tencent"][key])
        lat, lon = pair(params["tocoord"])
        assert close((lon, lat), gcj)
        assert params["type"] == "walk" and params["referer"] == "locator"
    app = query(result["tencent"]["app"])
    if origin is None:
        assert app["fromcoord"] == "CurrentLocation"
    else:
        lat, lon = pair(app["fromcoord"])
        assert close((lon, lat), datum.wgs84_to_gcj02(*origin))


def test_osm_uses_wgs84(result, origin):
    web = query(result["osm"]["web"])
    assert web["engine"] == "fossgis_osrm_foot"
    start, _, end = web["route"].partition(";")
    lat, lon = pair(end)
    assert close((lon, lat), (LON, LAT))
    if origin is None:
        assert start == ""
    else:
        lat, lon = pair(start)
        assert close((lon, lat), origin)
    geo = urlsplit(result["osm"]["app"])
    lat, lon = pair(geo.path)
    assert close((lon, lat), (LON, LAT))


def test_chinese_services_are_offset_from_wgs84():
    got = navigation.links(LON, LAT, name="x")
    lon, lat = pair(query(got["amap"]["marker"])["position"])
    assert 300 < GEOD.inv(LON, LAT, lon, lat)[2] < 700


@pytest.mark.parametrize("origin_point", [None, ORIGIN])
def test_hostile_name_cannot_inject(origin_point):
    got = navigation.links(LON, LAT, name=HOSTILE, origin=origin_point)
    expected_keys = {
        ("amap", "web"): {"to", "mode", "src", "coordinate", "callnative"},
        ("amap", "app"): {"sourceApplication", "dlat", "dlon", "dname", "dev", "t"},
        ("amap", "marker"): {"position", "name", "src", "coordinate", "callnative"},
        ("baidu", "app"): {"destination", "coord_type", "mode", "src"},
        ("baidu", "marker"): {"location", "title", "content", "output", "coord_type", "src"},
        ("tencent", "web"): {"type", "to", "tocoord", "referer"},
        ("tencent", "app"): {"type", "from", "fromcoord", "to", "tocoord", "referer"},
        ("tencent", "marker"): {"marker", "referer"},
        ("osm", "app"): {"q"},
    }
    if origin_point is not None:
        expected_keys[("amap", "web")] |= {"from"}
        expected_keys[("amap", "app")] |= {"slat", "slon", "sname"}
        expected_keys[("baidu", "app")] |= {"origin"}
        expected_keys[("tencent", "web")] = {"type", "from", "fromcoord", "to", "tocoord",
                                             "referer"}
    for (service, key), keys in expected_keys.items():
        url = got[service][key]
        assert urlsplit(url).fragment == "", url
        assert set(query(url)) == keys, (service, key)
    # Standalone fields carry the exact name.
    assert query(got["amap"]["marker"])["name"] == HOSTILE
    assert query(got["amap"]["app"])["dname"] == HOSTILE
    assert query(got["baidu"]["marker"])["title"] == HOSTILE
    assert query(got["tencent"]["web"])["to"] == HOSTILE
    assert query(got["tencent"]["app"])["to"] == HOSTILE
    # Packed fields carry it after the structural prefix.
    assert query(got["amap"]["web"])["to"].split(",", 2)[2] == HOSTILE
    assert query(got["baidu"]["app"])["destination"].partition("|name:")[2] == HOSTILE
    assert query(got["tencent"]["marker"])["marker"].partition(";title:")[2] == HOSTILE
    # The geo: label is wrapped in parentheses, so the name's own become full-width.
    label = query(got["osm"]["app"])["q"].partition("(")[2]
    assert label == HOSTILE.replace("(", "（").replace(")", "）") + ")"
    # OSM's own fragment is ours alone.
    assert urlsplit(got["osm"]["marker"]).fragment.startswith("map=18/")
    for service in got.values():
        for url in service.values():
            assert "<" not in url and ">" not in url and " " not in url and "&x=" not in url


def test_separators_inside_packed_fields_are_neutralised():
    name = "驿站,甲|乙;丙(丁)"
    got = navigation.links(LON, LAT, name=name, origin=ORIGIN)
    to = query(got["amap"]["web"])["to"]
    assert to.count(",") == 2 and to.endswith("驿站，甲|乙;丙(丁)")
    dest = query(got["baidu"]["web"])["destination"]
    assert dest.count("|") == 1 and dest.endswith("驿站,甲｜乙;丙(丁)")
    assert query(got["tencent"]["marker"])["marker"].count(";") == 1
    assert query(got["tencent"]["web"])["to"] == name  # a standalone field keeps it as is


def test_names_are_cleaned_and_capped():
    got = navigation.links(LON, LAT, name="  驿站\n\t\u202e东门\x00  ")
    assert query(got["amap"]["marker"])["name"] == "驿站 东门"
    long_name = "站" * 500
    assert len(query(navigation.links(LON, LAT, name=long_name)["amap"]["marker"])["name"]) \
        == navigation.MAX_NAME_LENGTH
    assert query(navigation.links(LON, LAT, name="   ")["amap"]["marker"])["name"] == "目的地"


@pytest.mark.parametrize(("lon", "lat"), [(np.nan, 34.0), (113.0, np.inf), (200.0, 34.0),
                                         (113.0, -91.0), ("east", 34.0)])
def test_bad_coordinates_raise(lon, lat):
    with pytest.raises(ValueError, match="coordinates"):
        navigation.links(lon, lat, name="x")


def test_bad_origin_and_name_raise():
    with pytest.raises(ValueError, match="origin"):
        navigation.links(LON, LAT, name="x", origin=(113.0, 34.0, 1.0))
    with pytest.raises(ValueError, match="origin coordinates"):
        navigation.links(LON, LAT, name="x", origin=(np.nan, 34.0))
    with pytest.raises(ValueError, match="name must be a string"):
        navigation.links(LON, LAT, name=None)


def test_driver_homes_get_driving_links_and_drive_time(client):
    from urllib.parse import parse_qs, urlsplit

    base = "/api/v1/nearest?lat=34.7536&lon=113.6645&k=10&links=all"
    feats = [*client.get(base).get_json()["features"],
             *client.get(base + "&kind=driver_home").get_json()["features"]]
    kinds = {f["properties"]["kind"] for f in feats}
    assert "driver_home" in kinds and kinds - {"driver_home"}
    for f in feats:
        p = f["properties"]
        nav = p["navigation"]
        amap = parse_qs(urlsplit(nav["amap"]["web"]).query)
        tencent = parse_qs(urlsplit(nav["tencent"]["web"]).query)
        osm = parse_qs(urlsplit(nav["osm"]["web"]).query)
        app = parse_qs(urlsplit(nav["baidu"]["app"]).query)
        if p["kind"] == "driver_home":
            assert p["trip_mode"] == "drive"
            assert p["drive_min"] == -(-p["distance_m"] // 500) or \
                abs(p["drive_min"] - p["distance_m"] / 500) < 1.01
            assert amap["mode"] == ["car"] and tencent["type"] == ["drive"]
            assert osm["engine"] == ["fossgis_osrm_car"] and app["mode"] == ["driving"]
        else:
            assert p["trip_mode"] == "walk" and "drive_min" not in p
            assert amap["mode"] == ["walk"] and tencent["type"] == ["walk"]
            assert osm["engine"] == ["fossgis_osrm_foot"] and app["mode"] == ["walking"]
