"""The worker map page: self-hosted assets, size, language and tile datum."""

from __future__ import annotations

import json
import re

from locator import create_app
from tests.conftest import DEMO

CDN = re.compile(r"(cdn\.jsdelivr|unpkg\.com|cdnjs\.cloudflare|code\.jquery|bootstrapcdn|"
                 r"fonts\.googleapis|fontawesome)", re.I)


def page_config(html: str) -> dict:
    m = re.search(r'<script id="locator-config" type="application/json">(.*?)</script>', html,
                  re.S)
    assert m
    return json.loads(m.group(1))


def test_page_loads_no_asset_from_elsewhere_and_stays_small(client):
    r = client.get("/")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert len(r.data) < 100_000
    assert not CDN.search(html)
    for url in re.findall(r'(?:src|href)="([^"]+)"', html):
        assert not url.startswith(("http:", "https:", "//")), url
    for url in re.findall(r'(?:src|href)="(/[^"]+)"', html):
        assert client.get(url).status_code == 200, url
    assert "演示数据" in html
    assert 'lang="zh-CN"' in html


def test_english_page(client):
    html = client.get("/?lang=en").get_data(as_text=True)
    assert 'lang="en"' in html and "Demo data" in html and "Find stations near me" in html


def test_page_size_does_not_grow_with_station_count(client, small_client):
    assert abs(len(client.get("/").data) - len(small_client.get("/").data)) < 2_000


def test_tile_source_sets_marker_datum(small_path):
    for tiles, want in (("amap", "gcj02"), ("osm", "wgs84")):
        app = create_app({"TESTING": True, "DATA_PATH": str(small_path), "TILES": tiles})
        html = app.test_client().get("/").get_data(as_text=True)
        assert page_config(html)["datum"] == want
        host = "autonavi" if tiles == "amap" else "openstreetmap"
        assert host in html


def test_tianditu_needs_key(small_path):
    app = create_app({"TESTING": True, "DATA_PATH": str(DEMO), "TILES": "tianditu",
                      "TIANDITU_KEY": "abc123"})
    html = app.test_client().get("/").get_data(as_text=True)
    assert "tianditu.gov.cn" in html and "tk=abc123" in html


def test_page_rejects_bad_fixed_location(client):
    r = client.get("/?lat=999&lon=113")
    assert r.status_code == 400 and r.get_json()["field"] == "lat"


def test_tianditu_without_key_fails_at_start(small_path):
    import pytest

    with pytest.raises(ValueError, match="TIANDITU_KEY"):
        create_app({"TESTING": True, "DATA_PATH": str(small_path), "TILES": "tianditu"})
