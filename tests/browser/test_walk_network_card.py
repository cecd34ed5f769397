"""With a walking street graph, the worker's list says "along streets" and the card
draws the station's 15-minute walk area on the map, in the tiles' datum (Amap, GCJ-02)."""

from __future__ import annotations

import numpy as np
import pytest

from locator import create_app
from locator.geo.network import graph
from tests.browser.conftest import ZHENGZHOU, api_json, serve
from tests.conftest import DEMO

pytestmark = pytest.mark.browser
STEP_M = 50.0
HALF = 30  # nodes each side of the centre: a 3 km square of streets


@pytest.fixture(scope="module")
def street_server(tmp_path_factory):
    """A 50 m street grid, 3 km square, around the phone's position in Zhengzhou."""
    lat0, lon0 = ZHENGZHOU["latitude"], ZHENGZHOU["longitude"]
    dlat = STEP_M / 110_950
    dlon = STEP_M / (111_320 * np.cos(np.radians(lat0)))
    i, j = np.meshgrid(np.arange(-HALF, HALF + 1), np.arange(-HALF, HALF + 1), indexing="ij")
    lon, lat = (lon0 + j * dlon).ravel(), (lat0 + i * dlat).ravel()
    n = 2 * HALF + 1
    ids = np.arange(n * n).reshape(n, n)
    u = np.concatenate([ids[:, :-1].ravel(), ids[:-1, :].ravel()])
    v = np.concatenate([ids[:, 1:].ravel(), ids[1:, :].ravel()])
    g = graph.from_edges(lon, lat, u, v, np.full(len(u), STEP_M), mode="walk")
    path = graph.save(g, tmp_path_factory.mktemp("grid"))
    yield from serve(create_app({"TESTING": True, "DATA_PATH": str(DEMO), "TILES": "amap",
                                 "NETWORK_PATH": str(path), "RATE_LIMIT_ENABLED": False}))


def test_list_walks_along_streets_and_card_draws_the_walk_area(phone, street_server):
    phone.goto(street_server.url + "/")
    phone.click("#locate")
    phone.wait_for_selector(".result-btn")
    # In the page's order: stations open now first (at some hours the nearest is closed).
    answer = api_json(f"{street_server.url}/api/v1/nearest?lat={ZHENGZHOU['latitude']}"
                      f"&lon={ZHENGZHOU['longitude']}&k=10&order=open_first")
    assert answer["query"]["walk_distance"] == "network"
    first = answer["features"][0]["properties"]
    assert first["walk_basis"] == "network"
    items = phone.locator(".result-btn")
    assert f"沿路步行约 {first['walk_min']} 分钟" in items.nth(0).inner_text()
    items.nth(0).click()
    phone.locator("#card").wait_for(state="visible")
    button = phone.locator("#card-walk")
    assert button.is_visible() and button.inner_text() == "15 分钟步行范围"
    box = button.bounding_box()
    assert box["width"] >= 44 and box["height"] >= 44
    button.click()
    phone.wait_for_selector("path.walk-area", state="attached", timeout=15_000)
    assert button.get_attribute("aria-pressed") == "true"
    # The area lies around the station as the map draws it (GCJ-02 on Amap tiles).
    gcj = api_json(f"{street_server.url}/api/v1/stations/{first['id']}?out_crs=gcj02")
    lon, lat = gcj["geometry"]["coordinates"]
    inside = phone.evaluate("""([lat, lon]) => {
        let map = null;
        for (const k of Object.keys(window)) {
          if (k.startsWith('map_') && window[k] instanceof L.Map) map = window[k];
        }
        map.setView([lat, lon], 14, {animate: false});
        const p = map.latLngToContainerPoint([lat, lon]);
        const c = map.getContainer().getBoundingClientRect();
        const r = document.querySelector('path.walk-area').getBoundingClientRect();
        const x = c.left + p.x, y = c.top + p.y;
        return [r.left < x && x < r.right && r.top < y && y < r.bottom, r.width, r.height];
    }""", [lat, lon])
    assert inside[0], inside
    # 15 minutes at 75 m/min is 1125 m each way along the grid: about 2.2 km across
    # at zoom 14 (about 8 m a pixel here), clearly more than a dot and less than the map.
    assert 150 < inside[1] < 600, inside
    button.click()
    assert phone.locator("path.walk-area").count() == 0
    assert button.get_attribute("aria-pressed") == "false"
    assert phone.errors == []
