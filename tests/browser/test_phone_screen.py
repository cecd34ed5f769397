"""The answer where the eye is: status and first results on the first 360x740 screen."""

from __future__ import annotations

import json
import urllib.request

import pytest

from locator import create_app
from tests.browser.conftest import in_first_screen, serve
from tests.conftest import DEMO

pytestmark = pytest.mark.browser

W, H = 360, 740
ZHENGZHOU = {"latitude": 34.7536, "longitude": 113.6645}


@pytest.fixture(scope="module")
def server():
    yield from serve(create_app({"TESTING": True, "DATA_PATH": str(DEMO), "TILES": "amap"}))


def _phone(browser, *, granted: bool):
    ctx = browser.new_context(viewport={"width": W, "height": H}, locale="zh-CN",
                              geolocation=ZHENGZHOU if granted else None,
                              permissions=["geolocation"] if granted else [], has_touch=True)
    page = ctx.new_page()
    page.errors = []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    # No tile server is reachable: every tile fails, as on a blocked network.
    page.route("https://**/*", lambda route: route.abort())
    return ctx, page


def _nearest_ids(url: str, lat: float, lon: float) -> list[str]:
    q = f"{url}/api/v1/nearest?lat={lat}&lon={lon}&k=10&links=none"
    with urllib.request.urlopen(q) as r:
        return [f["id"] for f in json.load(r)["features"]]


def test_after_locating_status_and_results_on_first_screen(browser, server):
    ctx, page = _phone(browser, granted=True)
    try:
        page.goto(server.url + "/")
        page.click("#locate")
        page.wait_for_selector(".result-btn")
        in_first_screen(page, "#status")
        in_first_screen(page, ".result-btn >> nth=0")
        in_first_screen(page, ".result-btn >> nth=1")
        assert page.locator("#status").inner_text() == "离你最近"
        # The list holds the ten nearest stations (by an independent HTTP query),
        # regrouped open now first, then unknown hours, then closed now.
        shown = page.locator(".result-btn").evaluate_all("els => els.map(e => e.dataset.id)")
        assert sorted(shown) == sorted(_nearest_ids(server.url, **{
            "lat": ZHENGZHOU["latitude"], "lon": ZHENGZHOU["longitude"]}))
        badges = page.locator(".result-btn .result-line .badge:not(.badge-demo)").evaluate_all(
            "els => els.map(e => e.className.split(' ').pop())")
        rank = {"badge-open": 0, "badge-unknown": 1, "badge-closed": 2}
        assert [rank[b] for b in badges] == sorted(rank[b] for b in badges)
        assert page.errors == []
    finally:
        ctx.close()


def test_location_denied_message_on_first_screen(browser, server):
    ctx, page = _phone(browser, granted=False)
    try:
        page.goto(server.url + "/")
        page.click("#locate")
        page.wait_for_function(
            "() => document.getElementById('status').classList.contains('status-error')")
        assert "无法获取位置" in page.locator("#status").inner_text()
        in_first_screen(page, "#status")
        assert page.errors == []
    finally:
        ctx.close()


def test_tapped_point_answer_on_first_screen(browser, server):
    ctx, page = _phone(browser, granted=False)
    try:
        page.goto(server.url + "/")
        page.wait_for_selector(".leaflet-container")
        box = page.locator(".map-wrap").bounding_box()
        page.mouse.click(W / 2 + 30, box["y"] + box["height"] / 2 + 20)
        page.wait_for_selector(".result-btn")
        in_first_screen(page, "#status")
        in_first_screen(page, ".result-btn >> nth=0")
    finally:
        ctx.close()


def test_county_outlines_drawn_when_tiles_fail(browser, server):
    ctx, page = _phone(browser, granted=True)
    try:
        page.goto(server.url + "/")
        page.wait_for_selector(".leaflet-container[data-fallback='outlines']")
        # Vector paths of the county layer are on the map, under the markers.
        n = page.locator(".leaflet-overlay-pane path").count()
        with urllib.request.urlopen(server.url + "/api/v1/outlines?crs=gcj02") as r:
            counties = len(json.load(r)["features"])
        assert counties == 157
        assert n > 0
        assert page.errors == []
    finally:
        ctx.close()


def test_page_allows_zoom(browser, server):
    ctx, page = _phone(browser, granted=True)
    try:
        page.goto(server.url + "/")
        metas = page.locator('meta[name="viewport"]').evaluate_all(
            "els => els.map(e => e.content)")
        assert metas and all("user-scalable=no" not in m and "maximum-scale" not in m
                             for m in metas)
    finally:
        ctx.close()


def test_denied_then_search_a_place_lists_nearest_on_first_screen(browser, server):
    ctx, page = _phone(browser, granted=False)
    try:
        page.goto(server.url + "/")
        page.click("#locate")
        page.wait_for_function(
            "() => document.getElementById('status').classList.contains('status-error')")
        in_first_screen(page, "#status")
        page.fill("#search-q", "鄭州")
        page.wait_for_selector(".search-hit")
        in_first_screen(page, ".search-hit >> nth=0")
        assert page.locator(".search-hit").first.inner_text().startswith("郑州市")
        page.locator(".search-hit").first.click()
        page.wait_for_function("() => document.getElementById('status').textContent"
                               ".includes('郑州市')")
        page.wait_for_selector(".result-btn")
        in_first_screen(page, "#status")
        in_first_screen(page, ".result-btn >> nth=0")
        # The list is the nearest stations from the picked place (independent HTTP query).
        with urllib.request.urlopen(server.url + "/api/v1/search?q=%E9%83%91%E5%B7%9E") as r:
            hit = json.load(r)["results"][0]
        shown = page.locator(".result-btn").evaluate_all("els => els.map(e => e.dataset.id)")
        assert sorted(shown) == sorted(_nearest_ids(server.url, hit["lat"], hit["lon"]))
        assert page.errors == []
    finally:
        ctx.close()
