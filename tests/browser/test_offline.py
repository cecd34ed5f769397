"""A repeat visit without a network: the cached shell and the last answer, marked as such."""

from __future__ import annotations

import pytest

from tests.browser.conftest import PHONE_H, PHONE_W, ZHENGZHOU

pytestmark = pytest.mark.browser

W, H = PHONE_W, PHONE_H


def test_offline_repeat_visit_shows_shell_and_last_answer(browser, amap_server):
    ctx = browser.new_context(viewport={"width": W, "height": H}, locale="zh-CN",
                              geolocation=ZHENGZHOU, permissions=["geolocation"],
                              has_touch=True, service_workers="allow")
    page = ctx.new_page()
    try:
        page.goto(amap_server.url + "/")
        page.evaluate("() => navigator.serviceWorker.ready.then(() => true)")
        page.wait_for_function("() => navigator.serviceWorker.controller !== null")
        page.click("#locate")
        page.wait_for_selector(".result-btn")
        online = page.locator(".result-btn").evaluate_all("els => els.map(e => e.dataset.id)")
        assert "过时" not in page.locator("#status").inner_text()
        # The worker stores the shell in the background; wait until it holds the page.
        page.wait_for_function("() => caches.open('locator-v1').then(c => c.keys())"
                               ".then(k => k.some(r => new URL(r.url).pathname === '/'))")
        page.wait_for_function("() => caches.open('locator-v1').then(c => c.keys())"
                               ".then(k => k.some(r => r.url.endsWith('/__last/nearest')))")
        ctx.set_offline(True)
        page.goto(amap_server.url + "/")
        page.wait_for_selector("#locate")
        assert page.locator("h1").inner_text() == "职工服务站点查找"
        page.click("#locate")
        page.wait_for_selector(".result-btn")
        status = page.locator("#status").inner_text()
        assert "离线" in status and "可能已过时" in status
        offline = page.locator(".result-btn").evaluate_all("els => els.map(e => e.dataset.id)")
        assert offline == online
        box = page.locator("#status").bounding_box()
        assert box["y"] >= 0 and box["y"] + box["height"] <= H
    finally:
        ctx.close()


def test_page_works_where_there_is_no_service_worker(browser, amap_server):
    # iOS WeChat has none: nothing may depend on it.
    ctx = browser.new_context(viewport={"width": W, "height": H}, locale="zh-CN",
                              geolocation=ZHENGZHOU, permissions=["geolocation"],
                              has_touch=True, service_workers="block")
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(amap_server.url + "/")
        page.click("#locate")
        page.wait_for_selector(".result-btn")
        assert page.locator("#status").inner_text() == "离你最近"
        assert errors == []
    finally:
        ctx.close()


def test_worker_may_look_after_the_whole_site(amap_server):
    import urllib.request

    with urllib.request.urlopen(amap_server.url + "/static/js/sw.js") as r:
        assert r.headers["Service-Worker-Allowed"] == "/"
        assert "javascript" in r.headers["Content-Type"]
    with urllib.request.urlopen(amap_server.url + "/static/manifest.webmanifest") as r:
        import json

        manifest = json.load(r)
    assert manifest["start_url"] == "/" and manifest["display"] == "standalone"
