"""The one parameter table: the API, the OpenAPI document, the forms and the CLI agree."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from locator.cli.main import main as cli_main


def _param(doc, path, name):
    return next(p for p in doc["paths"][path]["get"]["parameters"] if p["name"] == name)


def test_radius_bound_is_the_same_everywhere(small_client):
    doc = small_client.get("/openapi.json").get_json()
    sch = _param(doc, "/api/v1/coverage", "radius")["schema"]
    lo, hi = sch["minimum"], sch["maximum"]
    page = small_client.get("/planner?radius=1000").get_data(as_text=True)
    tag = re.search(r'<input[^>]*name="radius"[^>]*>', page).group(0)
    assert f'min="{lo:g}"' in tag and f'max="{hi:g}"' in tag
    # The API accepts exactly the documented range, no more and no less.
    below = small_client.get(f"/api/v1/coverage?radius={lo - 1:g}&wait=0")
    assert below.status_code == 400 and below.get_json()["field"] == "radius"
    above = small_client.get(f"/api/v1/coverage?radius={hi + 1:g}&wait=0")
    assert above.status_code == 400 and above.get_json()["field"] == "radius"
    at = small_client.get(f"/api/v1/coverage?radius={lo:g}&wait=0")
    assert at.status_code in (200, 202), at.get_data(as_text=True)
    helptext = CliRunner().invoke(cli_main, ["coverage", "--help"]).output
    assert f"{lo:g}..{hi:g}" in helptext


@pytest.mark.parametrize("path,name,value", [
    ("/api/v1/nearest", "k", None), ("/api/v1/nearest", "max_distance_m", None),
    ("/api/v1/stations", "grid", None), ("/api/v1/stations", "limit", None)])
def test_documented_maximum_is_enforced(small_client, path, name, value):
    doc = small_client.get("/openapi.json").get_json()
    sch = _param(doc, path, name)["schema"]
    base = ("lat=34.75&lon=113.65" if path.endswith("nearest")
            else "bbox=113.6,34.7,113.8,34.8")
    ok = small_client.get(f"{path}?{base}&{name}={sch['maximum']:g}")
    assert ok.status_code == 200, ok.get_data(as_text=True)
    step = 1 if sch["type"] == "integer" else 0.5
    bad = small_client.get(f"{path}?{base}&{name}={sch['maximum'] + step}")
    assert bad.status_code == 400 and bad.get_json()["field"] == name


def test_embed_builder_inputs_match_embed_parser(small_client):
    page = small_client.get("/embed/builder").get_data(as_text=True)
    tag = re.search(r'<input[^>]*name="zoom"[^>]*>', page).group(0)
    hi = int(re.search(r'max="(\d+)"', tag).group(1))
    lo = int(re.search(r'min="(\d+)"', tag).group(1))
    assert small_client.get(f"/embed?zoom={hi}").status_code == 200
    assert small_client.get(f"/embed?zoom={hi + 1}").status_code == 400
    assert small_client.get(f"/embed?zoom={lo - 1}").status_code == 400


def _concrete(path: str) -> str:
    # Any value reaches the route; 404s for unknown ids are fine, a 405 is what matters.
    return (path.replace("{collectionId}", "stations").replace("{what}", "gaps")
            .replace("{fmt}", "csv").replace("{", "").replace("}", ""))


@pytest.mark.slow  # HEAD and GET of every path, the planner's included
def test_undeclared_methods_answer_405_with_allow(small_client):
    doc = small_client.get("/openapi.json").get_json()
    for path, item in doc["paths"].items():
        declared = {m.upper() for m in item if m in ("get", "post", "put", "patch", "delete")}
        url = _concrete(path)
        for method in {"POST", "PUT", "PATCH", "DELETE"} - declared:
            resp = small_client.open(url, method=method)
            assert resp.status_code == 405, (method, url, resp.status_code)
            allow = {m.strip() for m in resp.headers["Allow"].split(",")}
            assert declared <= allow and method not in allow, (method, url, allow)
            body = resp.get_json()
            assert set(body) == {"status", "code", "message", "field"} and body["status"] == 405
        opts = small_client.open(url, method="OPTIONS")
        assert opts.status_code in (200, 204), url
        assert declared <= {m.strip() for m in opts.headers["Allow"].split(",")}
        if "GET" in declared:
            head = small_client.head(url)
            get = small_client.get(url)
            # A planner run may finish between the two requests: 202 (running) then 200.
            same = {head.status_code, get.status_code} in ({200}, {202}, {200, 202}) \
                if head.status_code in (200, 202) else head.status_code == get.status_code
            assert same, (url, head.status_code, get.status_code)
            assert head.get_data() == b""


@pytest.mark.parametrize("path,base,name", [
    ("/api/v1/nearest", "lat=34.75&lon=113.65", "crs"),
    ("/api/v1/nearest", "lat=34.75&lon=113.65", "out_crs"),
    ("/api/v1/nearest", "lat=34.75&lon=113.65", "lang"),
    ("/api/v1/stations", "bbox=113.6,34.7,113.8,34.8", "kind"),
    ("/api/v1/stations", "bbox=113.6,34.7,113.8,34.8", "amenity"),
    ("/ogc/collections/{collectionId}/items", "limit=5", "f"),
    ("/api/v1/presets", "", "lang"),
])
def test_documented_enumeration_is_exactly_what_is_accepted(small_client, path, base, name):
    doc = small_client.get("/openapi.json").get_json()
    sch = _param(doc, path, name)["schema"]
    values = sch["items"]["enum"] if sch["type"] == "array" else sch["enum"]
    path = path.replace("{collectionId}", "stations")
    for value in values:
        r = small_client.get(f"{path}?{base}&{name}={value}")
        assert r.status_code == 200, (name, value, r.get_data(as_text=True))
    # An empty value is the parameter left out; a differently-cased one is refused.
    assert small_client.get(f"{path}?{base}&{name}=").status_code == 200
    bad = small_client.get(f"{path}?{base}&{name}={values[0].upper()}")
    assert bad.status_code == 400 and bad.get_json()["field"] == name


def test_ogc_page_size_over_the_maximum_is_capped(small_client):
    doc = small_client.get("/openapi.json").get_json()
    sch = _param(doc, "/ogc/collections/{collectionId}/items", "limit")["schema"]
    assert "maximum" not in sch  # documented as capped, so any page size is a valid request
    cap = int(re.search(r"over ([\d,]+)", _param(
        doc, "/ogc/collections/{collectionId}/items", "limit")["description"]).group(1)
        .replace(",", ""))
    r = small_client.get(f"/ogc/collections/stations/items?limit={cap * 3}")
    assert r.status_code == 200
    assert r.get_json()["numberReturned"] == min(cap, r.get_json()["numberMatched"])
