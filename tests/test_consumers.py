"""CORS, validators (ETag, Last-Modified, 304), Cache-Control and rate limits."""

from __future__ import annotations

import shutil
from datetime import timedelta
from email.utils import format_datetime, parsedate_to_datetime

import pytest

from locator import create_app
from locator.web import consumers
from tests.conftest import DEMO

CACHED = ["/api/v1/vocabulary", "/api/v1/stations?bbox=113.6,34.7,113.7,34.8",
          "/api/v1/stations/demo-rs-410102-0001", "/ogc/collections/stations/items?limit=5",
          "/ogc/collections", "/openapi.json"]


@pytest.mark.parametrize("path", CACHED)
def test_etag_and_304(client, app, path):
    r = client.get(path)
    assert r.status_code == 200
    assert r.headers["ETag"].startswith('W/"')
    tag = r.headers["ETag"].removeprefix("W/").strip('"')
    version = app.extensions["locator.store"].current.version
    assert tag.startswith(version + "-")
    assert r.headers["Cache-Control"] == f"public, max-age={app.config['API_MAX_AGE']}"
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    again = client.get(path, headers={"If-None-Match": r.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == r.headers["ETag"]
    stale = client.get(path, headers={"If-None-Match": '"old-version-0000"'})
    assert stale.status_code == 200
    # Item pages carry their generation time; everything else must match.
    fresh, old = stale.get_json(), r.get_json()
    fresh.pop("timeStamp", None)
    old.pop("timeStamp", None)
    assert fresh == old


def test_last_modified_and_if_modified_since(client):
    r = client.get("/api/v1/vocabulary")
    stamp = parsedate_to_datetime(r.headers["Last-Modified"])
    later = format_datetime(stamp + timedelta(seconds=5), usegmt=True)
    earlier = format_datetime(stamp - timedelta(days=1), usegmt=True)
    assert client.get("/api/v1/vocabulary",
                      headers={"If-Modified-Since": later}).status_code == 304
    assert client.get("/api/v1/vocabulary",
                      headers={"If-Modified-Since": earlier}).status_code == 200
    assert client.get("/api/v1/vocabulary",
                      headers={"If-Modified-Since": "not a date"}).status_code == 200


def test_tags_differ_per_request_and_per_dataset(client, small_client):
    a = client.get("/api/v1/stations?bbox=113.6,34.7,113.7,34.8").headers["ETag"]
    b = client.get("/api/v1/stations?bbox=113.6,34.7,113.7,34.9").headers["ETag"]
    c = small_client.get("/api/v1/stations?bbox=113.6,34.7,113.7,34.8").headers["ETag"]
    assert len({a, b, c}) == 3


def test_new_dataset_version_invalidates(tmp_path):
    path = tmp_path / "demo.gpkg"
    shutil.copy(DEMO, path)
    app = create_app({"TESTING": True, "DATA_PATH": str(path)})
    c = app.test_client()
    tag = c.get("/ogc/collections").headers["ETag"]
    from locator.stations import dataset

    app.extensions["locator.store"].swap(dataset.Dataset(
        app.extensions["locator.store"].current.frame.iloc[:10].copy(), "newversion01"))
    r = c.get("/ogc/collections", headers={"If-None-Match": tag})
    assert r.status_code == 200 and r.headers["ETag"].startswith('W/"newversion01-')


def test_clock_dependent_answers_fold_in_the_minute():
    a = consumers.etag_for("v1", "/api/v1/nearest?lat=1&lon=2", minute=100)
    b = consumers.etag_for("v1", "/api/v1/nearest?lat=1&lon=2", minute=101)
    assert a != b and a.startswith("v1-")


def test_nearest_has_no_last_modified(client):
    r = client.get("/api/v1/nearest?lat=34.75&lon=113.66")
    assert "ETag" in r.headers and "Last-Modified" not in r.headers


def test_negotiated_ogc_varies_on_accept(client):
    r1 = client.get("/ogc", headers={"Accept": "text/html"})
    r2 = client.get("/ogc", headers={"Accept": "application/json"})
    assert r1.headers["ETag"] != r2.headers["ETag"]
    assert "Accept" in r1.headers["Vary"]


def test_errors_are_not_cached(client):
    r = client.get("/api/v1/nearest?lat=x&lon=1")
    assert r.status_code == 400 and r.headers["Cache-Control"] == "no-store"
    assert r.headers["Access-Control-Allow-Origin"] == "*"


def test_cors_preflight(client):
    r = client.options("/ogc/collections/stations/items", headers={
        "Origin": "https://gis.example", "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "If-None-Match"})
    assert r.status_code == 200
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    assert "If-None-Match" in r.headers["Access-Control-Allow-Headers"]
    assert "GET" in r.headers["Access-Control-Allow-Methods"]
    assert "ETag" in client.get("/openapi.json").headers["Access-Control-Expose-Headers"]


def test_pages_get_no_cors(client):
    assert "Access-Control-Allow-Origin" not in client.get("/").headers
    assert "Access-Control-Allow-Origin" not in client.get("/embed").headers


def test_rate_limit_answers_429_in_the_error_shape(small_path):
    app = create_app({"TESTING": True, "DATA_PATH": str(small_path), "TILES": "osm",
                      "RATE_LIMIT_ENABLED": True, "RATE_LIMIT": "5 per minute"})
    c = app.test_client()
    codes = [c.get("/api/v1/vocabulary").status_code for _ in range(5)]
    assert codes == [200] * 5
    r = c.get("/ogc/collections")  # the limit is per client, across the API
    assert r.status_code == 429
    assert r.json == {"status": 429, "code": "too_many_requests", "field": None,
                      "message": r.json["message"]}
    assert "5 per 1 minute" in r.json["message"]
    assert int(r.headers["Retry-After"]) > 0
    # Pages are not limited; another client address has its own budget.
    assert c.get("/embed").status_code == 200
    other = c.get("/api/v1/vocabulary", environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert other.status_code == 200


def test_rate_limit_off_in_tests_unless_asked(small_path):
    app = create_app({"TESTING": True, "DATA_PATH": str(small_path), "RATE_LIMIT": "1/minute"})
    c = app.test_client()
    assert {c.get("/api/v1/vocabulary").status_code for _ in range(5)} == {200}


def test_bad_rate_limit_setting_fails_at_start(small_path):
    with pytest.raises(ValueError, match="RATE_LIMIT"):
        create_app({"TESTING": True, "DATA_PATH": str(small_path), "RATE_LIMIT": "lots"})
