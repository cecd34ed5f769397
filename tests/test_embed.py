"""The embed page, its options, the snippet and oEmbed, pinned exactly."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import parse_qsl

import pytest

from locator import create_app
from locator.services import embed
from tests.conftest import DEMO, ROOT

BOUNDARIES = ROOT / "data" / "boundaries"


def opts(query: str) -> embed.EmbedOptions:
    args: dict[str, list[str]] = {}
    for k, v in parse_qsl(query, keep_blank_values=True):
        args.setdefault(k, []).append(v)
    return embed.parse(args, boundaries_dir=BOUNDARIES)


def test_snippet_is_pinned():
    got = embed.snippet("https://map.example.org/embed?kind=driver_home&region=410105",
                        width=600, height=450, title="郑州市金水区 · 司机之家")
    assert got == (
        '<iframe src="https://map.example.org/embed?kind=driver_home&amp;region=410105" '
        'width="600" height="450" style="border:0;max-width:100%" loading="lazy" '
        'referrerpolicy="strict-origin-when-cross-origin" '
        'title="郑州市金水区 · 司机之家"></iframe>')


def test_oembed_json_is_pinned(client):
    url = "http://localhost/embed?region=410105&kind=driver_home&theme=dark"
    r = client.get("/oembed", query_string={"url": url, "maxwidth": "400", "format": "json"})
    assert r.status_code == 200 and r.mimetype == "application/json"
    assert r.json == {
        "version": "1.0",
        "type": "rich",
        "title": "郑州市金水区 · 司机之家 (演示数据)",
        "provider_name": "Locator · 职工服务站点",
        "provider_url": "http://localhost/",
        "cache_age": 86400,
        "html": '<iframe src="http://localhost/embed?kind=driver_home&amp;region=410105'
                '&amp;theme=dark" width="400" height="450" style="border:0;max-width:100%" '
                'loading="lazy" referrerpolicy="strict-origin-when-cross-origin" '
                'title="郑州市金水区 · 司机之家 (演示数据)"></iframe>',
        "width": 400,
        "height": 450,
    }


def test_oembed_english_and_defaults(small_client):
    r = small_client.get("/oembed?url=http%3A%2F%2Flocalhost%2Fembed%3Flang%3Den")
    assert r.json["title"] == "Find a workers' station"  # small data is not demo
    assert (r.json["width"], r.json["height"]) == (embed.DEFAULT_WIDTH, embed.DEFAULT_HEIGHT)


@pytest.mark.parametrize("url", [
    "https://evil.example/embed", "http://localhost/", "http://localhost/embed/builder",
    "http://localhost/ogc", "javascript:alert(1)", "http://localhost.evil.example/embed",
    "http://localhost/embed?zoom=99", "http://localhost/embed?bogus=1",
])
def test_oembed_other_urls_are_404(client, url):
    r = client.get("/oembed", query_string={"url": url})
    assert r.status_code == 404
    assert r.json["code"] == "not_found" and r.json["field"] == "url"


def test_oembed_format_and_parameters(client):
    base = {"url": "http://localhost/embed"}
    assert client.get("/oembed", query_string={**base, "format": "xml"}).status_code == 501
    r = client.get("/oembed", query_string={**base, "format": "yaml"})
    assert r.status_code == 400 and r.json["field"] == "format"
    r = client.get("/oembed", query_string={**base, "maxwidth": "-5"})
    assert r.status_code == 400 and r.json["field"] == "maxwidth"
    r = client.get("/oembed")
    assert r.status_code == 400 and r.json["field"] == "url"


def test_public_url_setting_drives_links(small_path):
    app = create_app({"TESTING": True, "DATA_PATH": str(small_path), "TILES": "osm",
                      "PUBLIC_URL": "https://map.example.org/"})
    r = app.test_client().get("/oembed", query_string={
        "url": "https://map.example.org/embed?kind=reading_room"})
    assert r.status_code == 200
    assert 'src="https://map.example.org/embed?kind=reading_room"' in r.json["html"]
    r = app.test_client().get("/oembed", query_string={"url": "http://localhost/embed"})
    assert r.status_code == 404


def test_canonical_query_round_trips():
    o = opts("theme=dark&amenity=toilet,shower&kind=driver_home&list=off&accent=%23A0B1C2"
             "&center=34.75,113.66&zoom=14&lang=en")
    q = embed.canonical_query(o)
    assert q == ("kind=driver_home&amenity=toilet,shower&center=34.75,113.66&zoom=14&lang=en"
                 "&list=false&theme=dark&accent=a0b1c2")
    assert opts(q) == o
    assert embed.canonical_query(opts("")) == ""


@pytest.mark.parametrize(("query", "field"), [
    ("kind=castle", "kind"), ("amenity=pool", "amenity"), ("region=4101", "region"),
    ("bbox=1,2,3", "bbox"), ("center=34.7", "center"), ("center=95,113", "center"),
    ("zoom=2", "zoom"), ("zoom=x", "zoom"), ("lang=fr", "lang"), ("list=maybe", "list"),
    ("theme=neon", "theme"), ("accent=red", "accent"), ("accent=%3Cscript%3E", "accent"),
    ("zoom=5&zoom=6", "zoom"), ("colour=red", "colour"),
])
def test_bad_embed_parameters_are_400(client, query, field):
    r = client.get(f"/embed?{query}")
    assert r.status_code == 400, query
    assert r.json["code"] == "invalid_parameter" and r.json["field"] == field


def test_unknown_region_is_404_and_a_region_wins_over_a_box(client):
    r = client.get("/embed?region=999900")
    assert r.status_code == 404 and r.json["field"] == "region"
    both = client.get("/embed?region=410105&bbox=100,20,101,21").get_data(as_text=True)
    alone = client.get("/embed?region=410105").get_data(as_text=True)
    # The map is fitted to the region's bounds, not to the far-away box.
    fitted = re.findall(r'"bounds":(\[\[[-0-9.,\[\]]+\]\])', both)
    assert fitted and fitted == re.findall(r'"bounds":(\[\[[-0-9.,\[\]]+\]\])', alone)
    assert 34 < json.loads(fitted[0])[0][0] < 35


def _geojson_bounds(path: Path, key: str, code: str) -> list[float]:
    """Bounds straight from the GeoJSON coordinates, without GeoPandas."""
    data = json.loads(path.read_text(encoding="utf-8"))
    xs: list[float] = []
    ys: list[float] = []

    def walk(c):
        if isinstance(c[0], (int, float)):
            xs.append(c[0])
            ys.append(c[1])
        else:
            for sub in c:
                walk(sub)

    for feat in data["features"]:
        if str(int(feat["properties"][key])) == code:
            walk(feat["geometry"]["coordinates"])
    return [min(xs), min(ys), max(xs), max(ys)]


@pytest.mark.parametrize(("code", "file", "key", "name"), [
    ("410100", "henan_city.geojson", "city_adcode", "郑州市"),
    ("410105", "henan_county.geojson", "district_adcode", "郑州市金水区"),
    ("411502", "henan_county.geojson", "district_adcode", "信阳市浉河区"),
])
def test_region_bounds_match_the_boundary_file(code, file, key, name):
    got_name, box = embed.region_bounds(code, BOUNDARIES)
    assert got_name == name
    assert box == pytest.approx(_geojson_bounds(BOUNDARIES / file, key, code), abs=1e-6)


def page_config(html: str) -> dict:
    m = re.search(r'<script id="embed-config" type="application/json">(.*?)</script>', html, re.S)
    assert m
    return json.loads(m.group(1))


def test_embed_page_content(client):
    r = client.get("/embed?region=410105&kind=driver_home&amenity=shower&list=false&theme=dark"
                   "&accent=123abc&lang=en")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    cfg = page_config(html)
    assert cfg["filter"] == {"kind": ["driver_home"], "amenity": ["shower"]}
    assert cfg["list"] is False and cfg["lang"] == "en" and cfg["demo"] is True
    (s, w), (n, e) = cfg["bounds"]
    assert s < n and w < e and 34 < s < 35.5 and 113 < w < 114.5
    assert 'data-testid="demo-label"' in html and "Demo data" in html
    assert 'id="embed-full"' in html and "Open the full map" in html
    assert "theme-dark" in html and "--accent:#123abc" in html
    assert 'type="application/json+oembed"' in html
    for url in re.findall(r'(?:src|href)="([^"]+)"', html):
        assert not url.startswith(("http:", "https:", "//")), url
    assert len(r.data) < 60_000


def test_embed_without_demo_data_has_no_label(small_client):
    html = small_client.get("/embed").get_data(as_text=True)
    assert "demo-label" not in html and "embed-full" in html


def test_builder_page(client):
    r = client.get("/embed/builder")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert 'value="410105"' in html and 'id="snippet"' in html and "演示数据" in html
    assert re.search(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)", html) is None


def test_demo_file_is_the_default_for_the_client(app):
    assert Path(app.config["DATA_PATH"]) == DEMO
