"""OGC API – Features: documents, filters checked against pandas, paging, errors."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from locator.domain import schema
from locator.services import ogc

CONF = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/"


def page_all(client, url: str) -> list[dict]:
    """Follow ``next`` links to the end; return every feature seen."""
    seen: list[dict] = []
    pages = 0
    while url:
        r = client.get(url.removeprefix("http://localhost"))
        assert r.status_code == 200, r.json
        body = r.json
        assert body["numberReturned"] == len(body["features"])
        seen.extend(body["features"])
        nxt = [link["href"] for link in body["links"] if link["rel"] == "next"]
        assert all(link["type"] == "application/geo+json" for link in body["links"]
                   if link["rel"] == "next")
        url = nxt[0] if nxt else ""
        pages += 1
        assert pages < 1000
    return seen


def test_landing_and_conformance(client):
    r = client.get("/ogc", headers={"Accept": "application/json"})
    assert r.status_code == 200 and r.mimetype == "application/json"
    rels = {link["rel"]: link for link in r.json["links"]}
    assert {"self", "service-desc", "service-doc", "conformance", "data"} <= set(rels)
    assert rels["service-desc"]["type"].startswith("application/vnd.oai.openapi+json")
    for link in rels.values():
        path = link["href"].removeprefix("http://localhost")
        assert client.get(path).status_code == 200, path
    conf = client.get("/ogc/conformance").json["conformsTo"]
    assert {CONF + "core", CONF + "geojson", CONF + "oas30", CONF + "html"} <= set(conf)


def test_collections_extent_matches_the_data(client, demo_dataset):
    body = client.get("/ogc/collections?f=json").json
    ids = [c["id"] for c in body["collections"]]
    assert ids == ["stations", *schema.KIND_CODES]
    f = demo_dataset.frame
    for c in body["collections"]:
        sub = f if c["id"] == "stations" else f[f["kind"] == c["id"]]
        assert c["numberOfStations"] == len(sub)
        want = [sub.geometry.x.min(), sub.geometry.y.min(), sub.geometry.x.max(),
                sub.geometry.y.max()]
        assert c["extent"]["spatial"]["bbox"][0] == pytest.approx(want, abs=1e-7)
        lo, hi = c["extent"]["temporal"]["interval"][0]
        assert lo.startswith(sub["verified_at"].min()) and hi.startswith(sub["verified_at"].max())
        assert c["crs"] == [ogc.CRS84]
        items = [link for link in c["links"] if link["rel"] == "items"]
        assert {link["type"] for link in items} == {"application/geo+json", "text/html"}


@pytest.mark.slow
def test_paging_returns_every_station_once(client, demo_dataset):
    feats = page_all(client, "/ogc/collections/stations/items?limit=1000")
    ids = [f["id"] for f in feats]
    assert len(ids) == len(demo_dataset) == len(set(ids))
    first = client.get("/ogc/collections/stations/items").json
    assert first["numberReturned"] == ogc.DEFAULT_LIMIT
    assert first["numberMatched"] == len(demo_dataset)


@pytest.mark.parametrize("query", [
    "kind=driver_home",
    "county_adcode=410105",
    "county_adcode=410100",
    "county_adcode=410105,411502&amenity=toilet",
    "amenity=shower&amenity=truck_parking",
    "bbox=113.6,34.7,113.7,34.8",
    "bbox=113.6,34.7,0,113.7,34.8,100",
    "modified_since=2026-09-01",
    "datetime=2026-01-01/2026-03-31",
    "datetime=../2025-06-30",
    "datetime=2026-10-01T12:00:00%2B08:00/..",
    "status=closed,temporarily_closed",
])
@pytest.mark.slow
def test_filters_match_pandas(client, demo_dataset, query):
    f = demo_dataset.frame
    x, y = f.geometry.x, f.geometry.y
    keep = pd.Series(True, index=f.index)
    ver = pd.to_datetime(f["verified_at"]).dt.date
    for part in query.split("&"):
        key, value = part.split("=", 1)
        value = value.replace("%2B", "+")
        if key == "kind":
            keep &= f["kind"] == value
        elif key == "county_adcode":
            codes = value.split(",")
            keep &= f["county_adcode"].isin(codes) | f["county_adcode"].str[:4].isin(
                [c[:4] for c in codes if c.endswith("00")])
        elif key == "amenity":
            keep &= f["amenities"].str.split(";").map(lambda a, v=value: v in a)
        elif key == "bbox":
            v = [float(t) for t in value.split(",")]
            v = [v[0], v[1], v[3], v[4]] if len(v) == 6 else v
            keep &= (x >= v[0]) & (x <= v[2]) & (y >= v[1]) & (y <= v[3])
        elif key == "modified_since":
            # modified_since reads the change stamps; a file published before stamps
            # existed (the shipped demo file) counts every station as modified.
            if demo_dataset.modified_at is not None:
                day = pd.to_datetime(pd.Series(demo_dataset.modified_at)).dt.date
                keep &= day.isna().to_numpy() | (day >= date.fromisoformat(value)).to_numpy()
        elif key == "status":
            keep &= f["status"].isin(value.split(","))
        elif key == "datetime":
            a, b = value.split("/")
            if a != "..":
                keep &= ver >= date.fromisoformat(a[:10])
            if b != "..":
                keep &= ver <= date.fromisoformat(b[:10])
    want = set(f.loc[keep, "id"])
    assert want, "the case must select something"
    feats = page_all(client, f"/ogc/collections/stations/items?limit=5000&{query}")
    assert {g["id"] for g in feats} == want
    assert len(feats) == len(want)


def test_kind_collection_and_items(client, demo_dataset):
    feats = page_all(client, "/ogc/collections/driver_home/items?limit=40")
    f = demo_dataset.frame
    assert {g["id"] for g in feats} == set(f.loc[f["kind"] == "driver_home", "id"])
    one = feats[0]
    r = client.get(f"/ogc/collections/driver_home/items/{one['id']}")
    assert r.status_code == 200 and r.mimetype == "application/geo+json"
    assert r.json["properties"]["name"] == one["properties"]["name"]
    assert r.json["geometry"]["coordinates"] == one["geometry"]["coordinates"]
    other = f.loc[f["kind"] == "rest_station", "id"].iloc[0]
    r = client.get(f"/ogc/collections/driver_home/items/{other}")
    assert r.status_code == 404 and r.json["field"] == "featureId"
    # Intersection of a kind collection with another kind is empty, not an error.
    r = client.get("/ogc/collections/driver_home/items?kind=reading_room")
    assert r.status_code == 200 and r.json["numberMatched"] == 0


def test_features_are_crs84_geojson(client, demo_dataset):
    body = client.get("/ogc/collections/stations/items?limit=3").json
    for g in body["features"]:
        r = demo_dataset.row(g["id"])
        assert g["geometry"] == {"type": "Point", "coordinates": [
            round(float(demo_dataset.lon[r]), 7), round(float(demo_dataset.lat[r]), 7)]}
        assert isinstance(g["properties"]["amenities"], str)


@pytest.mark.slow
def test_limit_is_capped_and_paging_links(client):
    body = client.get("/ogc/collections/stations/items?limit=50000").json
    assert body["numberReturned"] == ogc.MAX_LIMIT
    body = client.get("/ogc/collections/stations/items?limit=10&offset=20&kind=driver_home").json
    rels = {link["rel"]: link["href"] for link in body["links"]}
    assert "offset=30" in rels["next"] and "offset=10" in rels["prev"]
    assert "kind=driver_home" in rels["next"]
    last = client.get("/ogc/collections/stations/items?limit=10&offset=14245").json
    assert last["numberReturned"] == 5 and "next" not in {x["rel"] for x in last["links"]}


@pytest.mark.parametrize(("query", "field"), [
    ("limit=0", "limit"), ("limit=abc", "limit"), ("offset=-1", "offset"),
    ("bbox=1,2,3", "bbox"), ("bbox=10,10,200,5", "bbox"), ("bbox=a,b,c,d", "bbox"),
    ("bbox=0,0,200,10", "bbox"), ("kind=castle", "kind"), ("amenity=pool", "amenity"),
    ("county_adcode=41", "county_adcode"), ("status=gone", "status"),
    ("modified_since=yesterday", "modified_since"), ("datetime=2026-13-01", "datetime"),
    ("datetime=2026-02-30", "datetime"), ("datetime=2026-01-01/x", "datetime"),
    ("f=xml", "f"), ("colour=red", "colour"),
])
def test_bad_parameters_are_400(client, query, field):
    r = client.get(f"/ogc/collections/stations/items?{query}")
    assert r.status_code == 400
    assert r.json["code"] == "invalid_parameter" and r.json["field"] == field


def test_unknown_collection_and_feature(client):
    assert client.get("/ogc/collections/castles").status_code == 404
    assert client.get("/ogc/collections/castles/items").status_code == 404
    r = client.get("/ogc/collections/stations/items/no-such-id")
    assert r.status_code == 404 and set(r.json) == {"status", "code", "message", "field"}


def test_html_and_content_negotiation(small_client):
    r = small_client.get("/ogc/collections/stations/items", headers={"Accept": "text/html"})
    assert r.mimetype == "text/html"
    html = r.get_data(as_text=True)
    # The hostile station name arrives escaped, never as markup.
    assert "<img src=x" not in html and "&lt;img src=x" in html
    r = small_client.get("/ogc/collections/stations/items",
                         headers={"Accept": "application/geo+json, application/json"})
    assert r.mimetype == "application/geo+json"
    assert small_client.get("/ogc?f=html").mimetype == "text/html"
    assert small_client.get("/ogc", headers={"Accept": "text/html"}).mimetype == "text/html"


def test_select_is_vectorised_over_the_same_rows(demo_dataset):
    q = ogc.ItemsQuery(kinds=("rest_station",), amenity_mask=schema.AMENITY_BIT["toilet"])
    rows = ogc.select(demo_dataset, "stations", q)
    f = demo_dataset.frame
    want = np.flatnonzero((f["kind"] == "rest_station").to_numpy()
                          & f["amenities"].str.contains("toilet").to_numpy())
    assert np.array_equal(rows, want)


@pytest.mark.slow
def test_open_reversed_and_antimeridian_queries_are_answered(client):
    """Forms a schema cannot forbid get the standard's reading, not a 400."""
    def ids(query: str) -> list[str]:
        r = client.get(f"/ogc/collections/stations/items?limit=10000&{query}")
        assert r.status_code == 200, r.get_data(as_text=True)
        return [f["id"] for f in r.get_json()["features"]]

    every = ids("")
    assert ids("datetime=../..") == every
    assert ids("datetime=2026-02-01/2026-01-01") == []
    # Latitudes in either order; a west edge east of the east edge wraps the antimeridian.
    assert ids("bbox=100,40,120,30") == ids("bbox=100,30,120,40") == every
    assert ids("bbox=179,30,-179,40") == []
    assert ids("bbox=120,30,119,40") == every
