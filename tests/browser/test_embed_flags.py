"""The embed's popup shows the card's chips: open reports and the last check, in Chromium.

The expected text comes from the shipped file (``verified_at``) and the fixed reason
labels, not from the page's own data.
"""

from __future__ import annotations

import geopandas as gpd
import pytest

from locator import create_app
from locator.domain.i18n import REASON_LABELS
from tests.browser.conftest import serve
from tests.conftest import DEMO

pytestmark = pytest.mark.browser


@pytest.fixture
def live(tmp_path):
    app = create_app({"DATA_DIR": str(tmp_path / "var"), "DATABASE_URL": "", "TILES": "osm",
                      "REPORT_CHALLENGE": False, "DATA_RELOAD_SECONDS": 0})
    yield from serve(app)


def test_the_embed_popup_shows_reports_and_the_last_check(live, phone):
    f = gpd.read_file(DEMO)
    station = f[(f["county_adcode"] == "410105") & (f["status"] == "open")].iloc[0]
    for reason in ("locked", "no_water"):
        r = phone.request.post(f"{live.url}/api/v1/stations/{station['id']}/reports",
                               data={"reason": reason})
        assert r.status == 201, r.text()
    lat, lon = station.geometry.y, station.geometry.x
    phone.goto(f"{live.url}/embed?center={lat:.6f},{lon:.6f}&zoom=18")
    item = phone.locator(".embed-item", has_text=station["name"]).first
    item.wait_for()
    item.click()
    pop = phone.locator(".leaflet-popup-content")
    chip = pop.locator(".embed-flags .badge-reported")
    chip.wait_for()
    labels = REASON_LABELS["zh"]
    assert chip.inner_text() == f"有人反馈：{labels['locked']}、{labels['no_water']}"
    # The station's own answer has replaced the marker's: the state line is filled in.
    phone.wait_for_function("() => document.querySelector('.leaflet-popup-content .state')"
                            ".textContent !== '…'")
    assert pop.locator(".embed-verified").inner_text() == f"最近核实: {station['verified_at']}"
    box = chip.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= 360
    assert phone.errors == [] and phone.dialogs == []


def test_a_station_without_reports_has_no_chip(live, phone):
    f = gpd.read_file(DEMO)
    station = f[(f["county_adcode"] == "410105") & (f["status"] == "open")].iloc[1]
    phone.goto(f"{live.url}/embed?center={station.geometry.y:.6f},"
               f"{station.geometry.x:.6f}&zoom=18")
    item = phone.locator(".embed-item", has_text=station["name"]).first
    item.wait_for()
    item.click()
    phone.wait_for_function("() => document.querySelector('.leaflet-popup-content .state')"
                            ".textContent !== '…'")
    pop = phone.locator(".leaflet-popup-content")
    assert pop.locator(".badge-reported").count() == 0
    assert station["verified_at"] in pop.locator(".embed-verified").inner_text()
