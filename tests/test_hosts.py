"""A forged ``Host`` never reaches links that other sites and caches keep
(issue: host reflection into OGC, OpenAPI, the embed builder and oEmbed)."""

from __future__ import annotations

import pytest

from locator import create_app
from tests.conftest import DEMO

EVIL = "evil.example"


@pytest.fixture(scope="module")
def client():
    return create_app({"TESTING": True, "DATA_PATH": str(DEMO)}).test_client()


@pytest.mark.parametrize("path", ["/ogc?f=json", "/ogc/collections?f=json", "/openapi.json",
                                  "/embed/builder", "/oembed?url=http://localhost/embed"])
def test_forged_host_is_not_reflected(client, path):
    r = client.get(path, headers={"Host": EVIL})
    assert r.status_code == 200
    assert EVIL.encode() not in r.data
    # The allowed host stands in for it.
    assert b"http://localhost" in r.data


def test_allowed_host_is_used(client):
    r = client.get("/ogc?f=json", headers={"Host": "127.0.0.1:5000"})
    assert b"http://127.0.0.1:5000/ogc" in r.data


def test_public_url_wins_over_any_host():
    c = create_app({"TESTING": True, "DATA_PATH": str(DEMO),
                    "PUBLIC_URL": "https://map.example.org"}).test_client()
    r = c.get("/oembed?url=https://map.example.org/embed", headers={"Host": EVIL})
    assert r.status_code == 200
    assert EVIL.encode() not in r.data and b"https://map.example.org/embed" in r.data


def test_errors_quote_a_short_prefix_of_the_input(client):
    r = client.get("/api/v1/nearest?lon=113.6&lat=" + "7" * 100_000)
    assert r.status_code == 400
    assert len(r.data) < 600
    assert r.get_json()["field"] == "lat"
