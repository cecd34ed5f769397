"""The worker map in real Chromium at phone size."""

from __future__ import annotations

import pytest

from locator import create_app
from locator.geo import datum
from tests.browser.conftest import serve
from tests.conftest import DEMO, HOSTILE_NAME

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def demo_server():
    yield from serve(create_app({"TESTING": True, "DATA_PATH": str(DEMO), "TILES": "amap"}))


@pytest.fixture(scope="module")
def hostile_server(small_path):
    yield from serve(create_app({"TESTING": True, "DATA_PATH": str(small_path),
                                 "TILES": "osm"}))


def test_locate_list_card_and_screenshot(phone, demo_server, shots_dir):
    phone.goto(demo_server.url + "/")
    phone.click("#locate")
    phone.wait_for_selector(".result-btn")
    items = phone.locator(".result-btn")
    assert items.count() == 10
    first = items.nth(0)
    name = first.locator(".result-name").inner_text()
    assert "演示" in name
    assert "步行约" in first.inner_text()
    phone.screenshot(path=str(shots_dir / "worker-360x740.png"))
    first.click()
    card = phone.locator("#card")
    card.wait_for(state="visible")
    assert phone.locator("#card-name").inner_text() == name
    nav = phone.locator("#card-nav a")
    assert nav.count() == 4
    assert all(nav.nth(i).get_attribute("href").startswith("https://") for i in range(4))
    # Demo numbers are shown as visibly fake text and are never dialable.
    assert phone.locator("#card-call").is_hidden()
    assert phone.locator('a[href^="tel:"]').count() == 0
    assert "演示号码" in phone.locator("#card-phone").inner_text()
    assert phone.locator("#card-verified").inner_text() != ""
    phone.screenshot(path=str(shots_dir / "worker-card-360x740.png"))
    # Touch targets: every button and link in the card and list is at least 44 px.
    for sel in ("#card button", "#card a", ".result-btn", ".chip", "#locate"):
        for box in phone.locator(sel).evaluate_all(
                "els => els.filter(e => e.offsetParent).map(e => e.getBoundingClientRect())"
                ".map(r => [r.width, r.height])"):
            assert box[0] >= 44 and box[1] >= 44, (sel, box)
    # Nothing overflows sideways at 360 px.
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    assert phone.errors == []


def test_filters_change_the_list(phone, demo_server):
    phone.goto(demo_server.url + "/?lat=34.7536&lon=113.6645")
    phone.wait_for_selector(".result-btn")
    phone.click(".filters-box summary")
    phone.click('.chip[data-kind="driver_home"]')
    phone.wait_for_function(
        "() => window.locatorApp.state.kind === 'driver_home' && "
        "document.querySelectorAll('.result-btn').length > 0 && "
        "[...document.querySelectorAll('.result-btn .result-name')]"
        ".every(e => e.textContent.includes('司机之家'))")
    phone.click('.chip[data-amenity="shower"]')
    phone.check("#open-now")
    phone.wait_for_function("() => window.locatorApp.state.openNow === true")
    phone.wait_for_selector(".result-btn .badge-open")


@pytest.mark.parametrize(("tiles", "crs"), [("amap", "gcj02"), ("osm", "wgs84")])
def test_markers_drawn_in_tile_datum(browser, demo_dataset, tiles, crs):
    """On Amap tiles the marker sits at the GCJ-02 point; on OSM at WGS-84."""
    ds = demo_dataset
    gen = serve(create_app({"TESTING": True, "DATA_PATH": str(DEMO), "TILES": tiles}))
    live = next(gen)
    ctx = browser.new_context(viewport={"width": 360, "height": 740})
    try:
        page = ctx.new_page()
        page.route("https://**/*", lambda route: route.fulfill(status=204, body=""))
        page.goto(live.url + "/")
        page.wait_for_function(
            "() => window.locatorApp.layer && window.locatorApp.layer.getLayers().length > 0")
        markers = page.evaluate(
            "() => window.locatorApp.layer.getLayers().slice(0, 20)"
            ".map(m => [m.stationId, m.getLatLng().lat, m.getLatLng().lng])")
        assert markers
        for sid, lat, lon in markers:
            r = ds.row(sid)
            want = datum.from_wgs84(ds.lon[r], ds.lat[r], crs)
            assert (lon, lat) == pytest.approx(want, abs=2e-6), (crs, sid)
            # On GCJ-02 tiles the marker is visibly shifted off the raw point.
            assert (abs(lon - ds.lon[r]) > 1e-3) == (crs == "gcj02")
    finally:
        ctx.close()
        gen.close()


def test_hostile_station_text_stays_text(phone, hostile_server):
    phone.goto(hostile_server.url + "/?lat=34.7536&lon=113.6645")
    phone.wait_for_selector(".result-btn")
    assert phone.locator(".result-name").nth(0).text_content() == HOSTILE_NAME
    phone.locator(".result-btn").nth(0).click()
    phone.locator("#card").wait_for(state="visible")
    assert phone.locator("#card-name").text_content() == HOSTILE_NAME
    assert phone.locator("#card-address").text_content() == \
        "`<b>bold</b>` & \"quote\" 'single'"
    # Open the marker path too: the marker title carries the name.
    phone.wait_for_function(
        "() => window.locatorApp.layer && window.locatorApp.layer.getLayers().length > 0")
    titles = phone.evaluate("() => window.locatorApp.layer.getLayers()"
                            ".map(m => m.options.title)")
    assert HOSTILE_NAME in titles
    assert phone.locator("img[src='x']").count() == 0
    assert phone.locator("#card b, .results b").count() == 0
    assert phone.dialogs == [] and phone.errors == []
