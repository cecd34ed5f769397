"""The card and the answer on a 360x740 phone: demo phones, outside Henan, share, navigation."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from pyproj import Geod

from locator.geo import datum
from tests.browser.conftest import (
    PHONE_H,
    PHONE_W,
    ZHENGZHOU,
    api_json,
    in_first_screen,
    station_xy,
)

pytestmark = pytest.mark.browser

W, H = PHONE_W, PHONE_H
WUHAN = {"latitude": 30.5928, "longitude": 114.3055}
GEOD = Geod(ellps="WGS84")
CJK = re.compile(r"[\u3400-\u9fff]")


def _phone(browser, where=ZHENGZHOU, locale="zh-CN"):
    ctx = browser.new_context(viewport={"width": W, "height": H}, locale=locale,
                              geolocation=where, permissions=["geolocation"], has_touch=True)
    page = ctx.new_page()
    page.errors = []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.route("https://**/*", lambda route: route.abort())
    return ctx, page


def _locate_and_open_first(page, url: str) -> str:
    page.goto(url)
    page.click("#locate")
    page.wait_for_selector(".result-btn")
    page.locator(".result-btn").first.click()
    page.wait_for_selector("#card:not([hidden])")
    return page.locator(".result-btn").first.get_attribute("data-id")


@pytest.fixture
def card(browser, amap_server):
    """The Chinese page on a phone in Zhengzhou, located, the first station's card open."""
    ctx, page = _phone(browser)
    sid = _locate_and_open_first(page, amap_server.url + "/")
    yield page, sid
    ctx.close()


def test_demo_phone_is_visibly_fake_and_not_dialable(card, amap_server):
    page, sid = card
    stored = api_json(f"{amap_server.url}/api/v1/stations/{sid}?links=none")["properties"]["phone"]
    # An area code, then a local number starting with 0: never assigned in China.
    assert re.fullmatch(r"0\d{2,3}-0000-\d{4}", stored)
    text = page.locator("#card-phone").inner_text()
    assert stored in text and "演示号码" in text and "不可拨打" in text
    assert page.locator("#card-call").is_hidden()
    assert page.locator("a[href^='tel:']").count() == 0
    assert page.errors == []


@pytest.mark.parametrize(("lang", "words"), [("zh", ("服务范围", "河南省")),
                                              ("en", ("outside the service area", "Henan"))])
def test_outside_henan_says_so_and_gives_the_true_distance(browser, amap_server, lang, words):
    ctx, page = _phone(browser, where=WUHAN, locale="zh-CN" if lang == "zh" else "en-GB")
    try:
        page.goto(f"{amap_server.url}/?lang={lang}")
        page.click("#locate")
        page.wait_for_selector(".result-btn")
        status = page.locator("#status").inner_text()
        assert all(w in status for w in words), status
        in_first_screen(page, "#status")
        in_first_screen(page, ".result-btn >> nth=0")
        first = page.locator(".result-btn").first
        sid = first.get_attribute("data-id")
        lon, lat = station_xy(amap_server.url, sid)
        km = GEOD.inv(WUHAN["longitude"], WUHAN["latitude"], lon, lat)[2] / 1000
        assert km > 100
        shown = float(re.search(r"([\d,]+(?:\.\d)?) (公里|km)", first.inner_text())
                      .group(1).replace(",", ""))
        assert shown == pytest.approx(km, abs=1.0)
        line = page.locator(".result-btn .walk").all_inner_texts()
        # No walking minutes for a walk of hundreds of kilometres.
        assert not any("步行约" in t or "min walk" in t for t in line), line
        assert page.errors == []
    finally:
        ctx.close()


def test_share_link_opens_the_same_card(card, amap_server):
    page, _ = card
    name = page.locator("#card-name").inner_text()
    href = page.locator("#card-share").get_attribute("href")
    assert href.startswith(amap_server.url + "/?")
    other = page.context.new_page()
    other.route("https://**/*", lambda route: route.abort())
    other.goto(href)
    other.wait_for_selector("#card:not([hidden])")
    assert other.locator("#card-name").inner_text() == name
    in_first_screen(other, "#card-name")


def test_baidu_button_opens_a_route_to_the_bd09_destination(card, amap_server):
    page, sid = card
    href = page.locator("#card-nav a.nav-baidu").get_attribute("href")
    parts = urlsplit(href)
    assert parts.netloc == "api.map.baidu.com" and parts.path == "/direction"
    q = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert q["coord_type"] == "bd09ll" and q["mode"] == "walking"
    lat, lon = map(float, q["destination"].split("|")[0].removeprefix("latlng:").split(","))
    wlon, wlat = api_json(f"{amap_server.url}/api/v1/stations/{sid}?links=none")["geometry"][
        "coordinates"]
    blon, blat = datum.wgs84_to_bd09(wlon, wlat)
    assert GEOD.inv(lon, lat, float(blon), float(blat))[2] < 1.0


def test_chinese_page_has_no_english_labels(card):
    page, _ = card
    labels = page.locator("#card-nav a, #card .actions a, #card dt, #status").all_inner_texts()
    english = [t for t in labels if re.search(r"[A-Za-z]{2,}", t.replace("OpenStreetMap", ""))]
    assert english == []
    assert set(page.locator("#card-nav a").all_inner_texts()) >= {"高德地图", "百度地图"}


def test_english_page_has_no_chinese_labels_or_credit(browser, amap_server):
    ctx, page = _phone(browser, locale="en-GB")
    try:
        _locate_and_open_first(page, amap_server.url + "/?lang=en")
        labels = page.locator("#card-nav a, #card .actions a, #card dt, #status, "
                              ".leaflet-control-attribution").all_inner_texts()
        assert [t for t in labels if CJK.search(t)] == []
        assert page.locator(".leaflet-control-attribution").inner_text().count("AutoNavi") == 1
    finally:
        ctx.close()


WECHAT_UA = ("Mozilla/5.0 (Linux; Android 13; V2183A) AppleWebKit/537.36 (KHTML, like Gecko) "
             "Version/4.0 Chrome/111.0.5563.116 Mobile Safari/537.36 XWEB/1110017 "
             "MMWEBSDK/20231202 MicroMessenger/8.0.47.2560(0x28002F30) WeChat/arm64 "
             "Weixin NetType/4G Language/zh_CN ABI/arm64")


def test_wechat_failed_location_says_how_to_get_out_and_offers_search(browser, amap_server):
    ctx = browser.new_context(viewport={"width": W, "height": H}, locale="zh-CN",
                              user_agent=WECHAT_UA, has_touch=True)
    page = ctx.new_page()
    page.route("https://**/*", lambda route: route.abort())
    try:
        page.goto(amap_server.url + "/")
        page.click("#locate")
        page.wait_for_function(
            "() => document.getElementById('status').classList.contains('status-error')")
        status = page.locator("#status").inner_text()
        assert "在浏览器打开" in status and "搜索" in status
        in_first_screen(page, "#status")
        in_first_screen(page, "#search-q")
        assert page.evaluate("() => document.activeElement.id") == "search-q"
        page.keyboard.type("洛阳")
        page.wait_for_selector(".search-hit")
        page.locator(".search-hit").first.click()
        page.wait_for_selector(".result-btn")
        in_first_screen(page, ".result-btn >> nth=0")
    finally:
        ctx.close()
