"""Security headers and the framing policy on every kind of response."""

from __future__ import annotations

import re

import pytest

from locator import create_app
from locator.web import security

PAGES = ["/", "/?lang=en", "/embed/builder", "/api/docs", "/ogc?f=html",
         "/ogc/collections/stations/items?f=html&limit=2"]
DATA = ["/api/v1/health", "/api/v1/vocabulary", "/api/v1/nearest?lat=34.75&lon=113.66",
        "/api/v1/stations?bbox=113.6,34.7,113.7,34.8", "/ogc", "/ogc/collections",
        "/openapi.json", "/oembed?url=http%3A%2F%2Flocalhost%2Fembed"]
ASSETS = ["/static/css/locator.css", "/static/js/embed.js", "/vendor/leaflet/leaflet.js",
          "/api/docs/assets/swagger-ui.css"]
ERRORS = ["/no-such-page", "/api/v1/nearest?lat=x", "/oembed?url=x", "/ogc/collections/x"]


def csp(resp) -> dict[str, str]:
    out = {}
    for part in resp.headers["Content-Security-Policy"].split(";"):
        name, _, value = part.strip().partition(" ")
        out[name] = value
    return out


@pytest.mark.parametrize("path", PAGES + DATA + ASSETS + ERRORS)
def test_every_response_refuses_framing_and_sniffing(client, path):
    r = client.get(path)
    assert r.headers["X-Frame-Options"] == "DENY"
    assert csp(r)["frame-ancestors"] == "'none'"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    policy = csp(r)
    assert policy["default-src"] == "'self'" and policy["object-src"] == "'none'"
    assert "'unsafe-inline'" not in policy["script-src"]
    assert "'unsafe-eval'" not in policy["script-src"]


@pytest.mark.parametrize("path", ["/embed", "/embed?kind=driver_home", "/embed?zoom=99"])
def test_embed_may_be_framed_by_any_origin_by_default(client, path):
    r = client.get(path)
    assert "X-Frame-Options" not in r.headers
    assert csp(r)["frame-ancestors"] == "'self' *"


def test_allow_list_restricts_embed_framing(small_path):
    app = create_app({"TESTING": True, "DATA_PATH": str(small_path), "TILES": "osm",
                      "EMBED_FRAME_ANCESTORS": "https://www.hnzgh.example, https://*.partner.example"})
    c = app.test_client()
    assert csp(c.get("/embed"))["frame-ancestors"] == \
        "'self' https://www.hnzgh.example https://*.partner.example"
    assert csp(c.get("/"))["frame-ancestors"] == "'none'"
    assert c.get("/embed/builder").headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize("bad", ["javascript:alert(1)", "https://a.example; script-src *",
                                 "'unsafe-inline'", "https://exa mple.org"])
def test_bad_allow_list_fails_at_start(small_path, bad):
    with pytest.raises(ValueError, match="EMBED_FRAME_ANCESTORS"):
        create_app({"TESTING": True, "DATA_PATH": str(small_path),
                    "EMBED_FRAME_ANCESTORS": bad})


@pytest.mark.parametrize("path", ["/", "/embed", "/api/docs"])
def test_inline_scripts_carry_this_requests_nonce(client, path):
    r1, r2 = client.get(path), client.get(path)
    nonce = re.search(r"'nonce-([^']+)'", csp(r1)["script-src"]).group(1)
    other = re.search(r"'nonce-([^']+)'", csp(r2)["script-src"]).group(1)
    assert nonce != other and len(nonce) >= 16
    html = r1.get_data(as_text=True)
    inline = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", html)
    executable = [attrs for attrs in inline if "application/json" not in attrs]
    assert executable
    assert all(f'nonce="{nonce}"' in attrs for attrs in executable)


@pytest.mark.parametrize(("tiles", "host"), [
    ("amap", "https://*.is.autonavi.com"), ("osm", "https://tile.openstreetmap.org")])
def test_tile_host_is_an_allowed_image_source(small_path, tiles, host):
    app = create_app({"TESTING": True, "DATA_PATH": str(small_path), "TILES": tiles})
    assert host in csp(app.test_client().get("/"))["img-src"].split()


def test_tianditu_hosts():
    assert security.tile_hosts("tianditu") == ["https://*.tianditu.gov.cn"]
    assert security.tile_hosts("none") == []
