"""The embed on a 360x740 phone: popups stay open and say enough to get there."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from pyproj import Geod

from tests.browser.conftest import PHONE_H, PHONE_W, ZHENGZHOU, api_json, station_xy

pytestmark = pytest.mark.browser

W, H = PHONE_W, PHONE_H
GEOD = Geod(ellps="WGS84")
CLOSE = "/embed?center=34.7536,113.6645&zoom=16"
STATES = ("开放中", "现在关闭", "时间未知", "暂停开放")


@pytest.fixture
def page(browser):
    ctx = browser.new_context(viewport={"width": W, "height": H}, locale="zh-CN",
                              geolocation=ZHENGZHOU, permissions=["geolocation"], has_touch=True)
    pg = ctx.new_page()
    pg.errors = []
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))
    pg.route("https://**/*", lambda route: route.abort())
    yield pg
    ctx.close()


def _open_embed(page, url: str) -> None:
    page.goto(url)
    page.wait_for_function("() => window.locatorEmbed && "
                           "window.locatorEmbed.markers.getLayers().length > 0")


def _popup_still_open_and_complete(page) -> str:
    page.wait_for_selector(".leaflet-popup-content .nav a.nav-baidu")
    # Long enough for the pan, the reload it triggers, and another reload.
    page.wait_for_timeout(1500)
    pop = page.locator(".leaflet-popup-content")
    assert pop.count() == 1 and pop.is_visible()
    text = pop.inner_text()
    assert any(s in text for s in STATES), text
    href = page.locator(".leaflet-popup-content a.nav-baidu").get_attribute("href")
    assert urlsplit(href).path == "/direction"
    assert page.locator(".leaflet-popup-content .nav a").count() == 4
    return text


def test_tapped_marker_popup_stays_open_with_state_and_navigation(page, amap_server):
    _open_embed(page, amap_server.url + "/embed?region=410102&kind=driver_home,rest_station")
    # Tap where a marker is drawn, as a finger does: whichever marker is on top opens.
    box = page.locator(".leaflet-marker-icon:not(.grid-cluster)").first.bounding_box()
    page.touchscreen.tap(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    _popup_still_open_and_complete(page)
    assert page.errors == []


def test_list_item_popup_stays_open(page, amap_server):
    _open_embed(page, amap_server.url + CLOSE)
    page.wait_for_selector(".embed-item")
    name = page.locator(".embed-item .n").first.inner_text()
    page.locator(".embed-item").first.tap()
    assert name in _popup_still_open_and_complete(page)


def test_distance_shown_once_located(page, amap_server):
    _open_embed(page, amap_server.url + CLOSE)
    page.click("#embed-locate")
    page.wait_for_timeout(800)
    page.wait_for_function("() => window.locatorEmbed.markers.getLayers().length > 0")
    page.wait_for_selector(".embed-item")
    sid = page.locator(".embed-item").first.get_attribute("data-id")
    page.locator(".embed-item").first.tap()
    text = _popup_still_open_and_complete(page)
    lon, lat = station_xy(amap_server.url, sid)
    want = GEOD.inv(ZHENGZHOU["longitude"], ZHENGZHOU["latitude"], lon, lat)[2]
    m = re.search(r"([\d.]+) (米|公里)", text)
    assert m, text
    got = float(m.group(1)) * (1000 if m.group(2) == "公里" else 1)
    assert got == pytest.approx(want, rel=0.01, abs=60)


def test_full_map_link_keeps_kind_amenities_and_region(page, amap_server):
    _open_embed(page, amap_server.url + "/embed?region=410102&kind=rest_station&amenity=toilet")
    href = page.locator("#embed-full").get_attribute("href")
    q = parse_qs(urlsplit(href).query)
    assert q == {"kind": ["rest_station"], "amenity": ["toilet"], "region": ["410102"]}
    page.goto(amap_server.url + href if href.startswith("/") else href)
    page.wait_for_selector("#kind-filter .chip", state="attached")
    assert page.locator("#kind-filter [data-kind=rest_station]").get_attribute(
        "aria-pressed") == "true"
    assert page.locator("#amenity-filter [data-amenity=toilet]").get_attribute(
        "aria-pressed") == "true"
    # The map opens on the region: Zhengzhou's Zhongyuan district (113.5-113.7 E).
    page.wait_for_function("() => window.locatorApp && window.locatorApp.map")
    lon = page.evaluate("() => window.locatorApp.map.getCenter().lng")
    assert 113.45 < lon < 113.72


def test_search_in_the_embed_moves_the_map(page, amap_server):
    _open_embed(page, amap_server.url + CLOSE)
    page.fill("#embed-q", "洛阳")
    page.press("#embed-q", "Enter")
    page.wait_for_selector(".embed-hit")
    hit = api_json(amap_server.url + "/api/v1/search?q=%E6%B4%9B%E9%98%B3&limit=5")["results"][0]
    assert page.locator(".embed-hit").first.inner_text() == hit["label"]
    page.locator(".embed-hit").first.tap()
    page.wait_for_function("() => Math.abs(window.locatorEmbed.map.getCenter().lng - "
                           f"{hit['lon']}) < 0.02")
    assert page.errors == []
