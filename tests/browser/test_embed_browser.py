"""Partner pages on other origins frame /embed in real Chromium; the policy holds."""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

import pytest
from flask import Flask, request
from markupsafe import escape

from locator import create_app
from tests.browser.conftest import serve
from tests.conftest import DEMO, HOSTILE_NAME

pytestmark = pytest.mark.browser


def partner_app() -> Flask:
    """A stand-in partner site: one page holding whatever iframe src it is given."""
    app = Flask("partner")

    @app.get("/")
    def page() -> str:
        src = escape(request.args["src"])
        return (f"<!doctype html><title>partner</title><h1>合作伙伴页面</h1>"
                f'<iframe id="map" src="{src}" width="360" height="520"></iframe>')

    return app


@pytest.fixture(scope="module")
def partners():
    allowed = serve(partner_app())
    other = serve(partner_app())
    a, b = next(allowed), next(other)
    yield a, b
    allowed.close()
    other.close()


@pytest.fixture(scope="module")
def locator_server(partners):
    allowed, _ = partners
    app = create_app({"TESTING": True, "DATA_PATH": str(DEMO), "TILES": "osm",
                      "EMBED_FRAME_ANCESTORS": allowed.url})
    yield from serve(app)


@pytest.fixture
def page(browser):
    ctx = browser.new_context(viewport={"width": 400, "height": 700}, locale="zh-CN")
    pg = ctx.new_page()
    pg.console = []
    pg.errors = []
    pg.on("console", lambda m: pg.console.append(m.text))
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))
    pg.route("https://**/*", lambda route: route.fulfill(status=204, body=""))
    yield pg
    ctx.close()


def embed_frame(page):
    for _ in range(100):
        frames = [f for f in page.frames if urlsplit(f.url).path == "/embed"]
        if frames:
            return frames[0]
        page.wait_for_timeout(50)
    raise AssertionError("the embed frame never loaded")


def test_allowed_partner_shows_stations(page, partners, locator_server, shots_dir):
    allowed, _ = partners
    src = f"{locator_server.url}/embed?region=410100&kind=driver_home"
    page.goto(f"{allowed.url}/?src={quote(src)}")
    frame = embed_frame(page)
    frame.wait_for_function("() => window.locatorEmbed && "
                            "window.locatorEmbed.markers.getLayers().length > 0")
    names = frame.evaluate("() => window.locatorEmbed.markers.getLayers()"
                           ".map(m => m.options.title)")
    assert names and all("司机之家" in n for n in names)
    frame.wait_for_selector(".embed-item")
    assert frame.locator(".embed-item").count() > 0
    assert frame.locator("[data-testid=demo-label]").inner_text() == "演示数据"
    link = frame.locator("#embed-full")
    assert link.get_attribute("target") == "_blank" and link.is_visible()
    # Clicking a list entry opens that station's popup on the map.
    first = frame.locator(".embed-item .n").first.inner_text()
    frame.locator(".embed-item").first.click()
    frame.wait_for_selector(".leaflet-popup-content")
    assert first in frame.locator(".leaflet-popup-content").inner_text()
    page.screenshot(path=str(shots_dir / "partner-embed.png"))
    assert not [m for m in page.console if "Content Security Policy" in m]
    assert page.errors == []


def test_dense_view_is_clustered_and_says_so(page, partners, locator_server):
    allowed, _ = partners
    page.goto(f"{allowed.url}/?src={quote(locator_server.url + '/embed?region=410105')}")
    frame = embed_frame(page)
    frame.wait_for_function("() => window.locatorEmbed && "
                            "window.locatorEmbed.clusters.getLayers().length > 0")
    counts = frame.evaluate("() => window.locatorEmbed.clusters.getLayers()"
                            ".map(m => Number(m.getElement().textContent))")
    assert sum(counts) > 300  # more than the embed draws one by one
    assert "放大" in frame.locator("#embed-status").inner_text()


def test_other_origin_is_refused(page, partners, locator_server):
    _, other = partners
    page.goto(f"{other.url}/?src={quote(locator_server.url + '/embed?region=410105')}")
    page.wait_for_function("() => true")
    page.wait_for_timeout(1500)
    frames = [f for f in page.frames if f != page.main_frame]
    assert frames
    # The refused frame holds Chromium's error page, never our document.
    assert frames[0].evaluate("() => typeof window.locatorEmbed") == "undefined"
    assert any(re.search(r"frame-ancestors", m) for m in page.console), page.console


def test_pages_other_than_embed_refuse_any_frame(page, partners, locator_server):
    allowed, _ = partners
    page.goto(f"{allowed.url}/?src={quote(locator_server.url + '/')}")
    page.wait_for_timeout(1500)
    frame = next(f for f in page.frames if f != page.main_frame)
    assert frame.evaluate("() => typeof window.locatorApp") == "undefined"
    assert any("frame-ancestors" in m or "X-Frame-Options" in m for m in page.console)


@pytest.mark.parametrize("path", ["/", "/embed?list=false&theme=dark", "/api/docs",
                                  "/embed/builder", "/ogc?f=html"])
def test_no_policy_violations_on_our_pages(page, locator_server, path):
    page.goto(locator_server.url + path)
    page.wait_for_load_state("networkidle")
    assert not [m for m in page.console if "Content Security Policy" in m], page.console
    assert page.errors == []


def test_swagger_ui_renders_the_document(page, locator_server):
    page.goto(locator_server.url + "/api/docs")
    page.wait_for_selector(".opblock-summary-path", timeout=15000)
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert any("/ogc/collections/{collectionId}/items" in p.replace("\u200b", "")
               for p in paths)


def test_builder_writes_the_snippet_and_previews(page, locator_server):
    page.goto(locator_server.url + "/embed/builder")
    page.wait_for_function("() => document.getElementById('snippet').value.length > 0")
    page.check("input[name=kind][value=driver_home]")
    page.select_option("#region", "410105")
    page.fill("#width", "480")
    page.dispatch_event("#width", "change")
    page.wait_for_function("() => document.getElementById('snippet').value"
                           ".includes('region=410105') && document.getElementById('snippet')"
                           ".value.includes('width=\"480\"')")
    snippet = page.input_value("#snippet")
    want = page.evaluate("""async () => {
        const u = location.origin + '/embed?kind=driver_home&region=410105';
        const q = '&maxwidth=480&maxheight=450';
        const r = await fetch('/oembed?url=' + encodeURIComponent(u) + q);
        return (await r.json()).html; }""")
    assert snippet == want
    frame = embed_frame(page)
    frame.wait_for_function("() => window.locatorEmbed && "
                            "window.locatorEmbed.markers.getLayers().length > 0")


BUILDER_ERRORS = {
    # lang: (zoom out of range, a bbox with west > east)
    "zh": ("缩放应为 3 到 18 之间的整数", "范围框应为“西,南,东,北”四个经纬度数字"),
    "en": ("Zoom must be a whole number from 3 to 18", "bbox must be four numbers"),
}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_builder_errors_speak_the_page_language(page, locator_server, lang):
    page.goto(locator_server.url + f"/embed/builder?lang={lang}")
    page.wait_for_function("() => document.getElementById('snippet').value.length > 0")
    good = page.input_value("#snippet")
    zoom_msg, bbox_msg = BUILDER_ERRORS[lang]
    page.fill("#zoom", "40")
    page.dispatch_event("#zoom", "change")
    error = page.locator("#builder-error")
    page.wait_for_function("m => document.getElementById('builder-error').textContent"
                           ".includes(m)", arg=zoom_msg)
    assert error.is_visible()
    page.fill("#zoom", "")
    page.fill("#bbox", "113.8,34.7,113.5,34.9")
    page.dispatch_event("#bbox", "change")
    page.wait_for_function("m => document.getElementById('builder-error').textContent"
                           ".includes(m)", arg=bbox_msg)
    text = error.inner_text()
    if lang == "zh":
        # No English on the Chinese page: the only Latin word is the parameter's name.
        assert re.search(r"[\u4e00-\u9fff]", text)
        assert not re.search(r"[A-Za-z]{3,}", text.replace("bbox", ""))
    # A wrong form never replaces the last good snippet.
    assert page.input_value("#snippet") == good
    page.fill("#bbox", "113.5,34.7,113.8,34.9")
    page.dispatch_event("#bbox", "change")
    page.wait_for_function("() => document.getElementById('builder-error').textContent === ''")
    assert "bbox=113.5" in page.input_value("#snippet")


def test_hostile_station_text_stays_text_in_the_embed(page, small_path):
    gen = serve(create_app({"TESTING": True, "DATA_PATH": str(small_path), "TILES": "osm"}))
    live = next(gen)
    try:
        page.dialogs = []
        page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
        page.goto(live.url + "/embed?center=34.7536,113.6645&zoom=15")
        page.wait_for_selector(".embed-item")
        names = page.locator(".embed-item .n").all_text_contents()
        assert HOSTILE_NAME in names
        hostile = page.locator(".embed-item").nth(names.index(HOSTILE_NAME))
        hostile.click()
        page.wait_for_selector(".leaflet-popup-content")
        assert HOSTILE_NAME in page.locator(".leaflet-popup-content").text_content()
        assert page.locator("img[src='x']").count() == 0
        assert page.locator(".embed-list b, .leaflet-popup-content b").count() == 0
        assert page.dialogs == [] and page.errors == []
    finally:
        gen.close()
