"""The station card as a bottom sheet on a 360x740 phone: map in view, expand, drag, focus."""

from __future__ import annotations

import pytest

from tests.browser.conftest import PHONE_H, PHONE_W, ZHENGZHOU

pytestmark = pytest.mark.browser

W, H = PHONE_W, PHONE_H


@pytest.fixture
def sheet(browser, amap_server):
    """Located in Zhengzhou, the first result's card opened by a tap on it."""
    ctx = browser.new_context(viewport={"width": W, "height": H}, locale="zh-CN",
                              geolocation=ZHENGZHOU, permissions=["geolocation"],
                              has_touch=True)
    page = ctx.new_page()
    page.errors = []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.route("https://**/*", lambda route: route.abort())
    page.goto(amap_server.url + "/")
    page.click("#locate")
    page.wait_for_selector(".result-btn")
    page.locator(".result-btn").first.click()
    page.wait_for_selector("#card:not([hidden])")
    yield page
    ctx.close()


def _box(page, sel: str) -> dict:
    box = page.locator(sel).first.bounding_box()
    assert box is not None, sel
    return box


def _covered_by_card(page, x: float, y: float) -> bool:
    return page.evaluate("([x, y]) => !!document.elementFromPoint(x, y)?.closest('#card')",
                         [x, y])


def _settled_height(page) -> float:
    page.wait_for_function("""() => new Promise(ok => {
        const c = document.getElementById('card'), h = c.getBoundingClientRect().height;
        setTimeout(() => ok(Math.abs(c.getBoundingClientRect().height - h) < 0.5), 250); })""")
    return _box(page, "#card")["height"]


def test_sheet_leaves_the_map_top_in_view(sheet):
    page = sheet
    card, mapbox = _box(page, "#card"), _box(page, ".map-wrap")
    assert card["y"] + card["height"] == pytest.approx(H, abs=1)
    assert card["y"] > mapbox["y"] + 40, (card, mapbox)
    # What the eye meets at the map's top is the map, not the card.
    assert not _covered_by_card(page, W / 2, mapbox["y"] + 20)
    assert page.locator(".map-wrap .folium-map").count() == 1
    # The station's name and the close button are on the first screen.
    for sel in ("#card-name", "#card-close", "#card-grow"):
        b = _box(page, sel)
        assert b["y"] >= 0 and b["y"] + b["height"] <= H, sel
    assert page.get_attribute("#card-grow", "aria-expanded") == "false"
    assert page.errors == []


def test_handle_expands_and_collapses_the_sheet(sheet):
    page = sheet
    half = _settled_height(page)
    assert 0.4 * H < half < 0.65 * H
    page.click("#card-grow")
    full = _settled_height(page)
    assert full > 0.9 * H
    assert page.get_attribute("#card-grow", "aria-expanded") == "true"
    assert page.locator("#card-grow").inner_text().strip() == "收起"
    # Expanded, the navigation buttons at the bottom of the card are reachable on screen.
    page.locator("#card-nav a").first.scroll_into_view_if_needed()
    nav = _box(page, "#card-nav a")
    assert nav["y"] + nav["height"] <= H
    page.click("#card-grow")
    assert _settled_height(page) == pytest.approx(half, abs=2)
    assert page.get_attribute("#card-grow", "aria-expanded") == "false"


def _drag_handle(page, to_y: float) -> None:
    b = _box(page, "#card-grow")
    x, y = b["x"] + b["width"] / 2, b["y"] + b["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    for i in range(1, 11):
        page.mouse.move(x, y + (to_y - y) * i / 10)
    page.mouse.up()


def test_dragging_the_handle_expands_or_closes_the_sheet(sheet):
    page = sheet
    opener = page.locator(".result-btn").first.get_attribute("data-id")
    _drag_handle(page, 60)
    assert _settled_height(page) > 0.9 * H
    assert page.get_attribute("#card-grow", "aria-expanded") == "true"
    _drag_handle(page, H - 20)
    page.wait_for_selector("#card", state="hidden")
    # Closed by a drag, focus still goes back to the result that opened the card.
    assert page.evaluate("() => document.activeElement.dataset.id") == opener


def test_focus_stays_in_the_sheet_and_esc_returns_it(sheet):
    page = sheet
    opener = page.locator(".result-btn").first.get_attribute("data-id")
    assert page.evaluate("() => document.activeElement.id") == "card-close"
    seen = set()
    for _ in range(25):
        page.keyboard.press("Tab")
        inside, ident = page.evaluate(
            "() => [!!document.activeElement.closest('#card'),"
            " document.activeElement.id || document.activeElement.textContent]")
        assert inside, ident
        seen.add(ident)
    assert "card-grow" in seen and "card-close" in seen
    for _ in range(5):
        page.keyboard.press("Shift+Tab")
        assert page.evaluate("() => !!document.activeElement.closest('#card')")
    # The handle works from the keyboard too.
    page.focus("#card-grow")
    page.keyboard.press("Enter")
    assert page.get_attribute("#card-grow", "aria-expanded") == "true"
    page.keyboard.press("Escape")
    page.wait_for_selector("#card", state="hidden")
    assert page.evaluate("() => document.activeElement.dataset.id") == opener
    # Opened again, the sheet starts at half height.
    page.locator(".result-btn").first.click()
    page.wait_for_selector("#card:not([hidden])")
    assert page.get_attribute("#card-grow", "aria-expanded") == "false"
    assert _settled_height(page) < 0.65 * H
