"""axe-core (vendored from npm) finds no WCAG 2.2 A/AA violations on the public pages."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.conftest import ZHENGZHOU, planner_settled

pytestmark = [pytest.mark.browser, pytest.mark.slow]

AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
WIDTHS = (360, 1366)


def _context(browser, width: int):
    ctx = browser.new_context(viewport={"width": width, "height": 740 if width == 360 else 900},
                              locale="zh-CN", geolocation=ZHENGZHOU,
                              permissions=["geolocation"])
    page = ctx.new_page()
    page.route("https://**/*", lambda route: route.abort())
    return ctx, page


# Map markers slide under the map's own zoom buttons as the map pans. WCAG 2.5.8
# exempts a target whose function another control on the page offers at full
# size, and every station on the map is also a large button in the list (clusters
# are reached by zooming), so the marker pane is left out of the target-size rule
# only; every other rule still reads it.
_RUN = """async tags => {
  const all = await axe.run(document, {runOnly: {type: 'tag', values: tags},
                                       rules: {'target-size': {enabled: false}}});
  const size = await axe.run({exclude: [['.leaflet-marker-pane']]},
                             {runOnly: {type: 'rule', values: ['target-size']}});
  return all.violations.concat(size.violations).map(v => v.id + ': ' + v.nodes.slice(0, 3)
    .map(n => n.target.join(' ')).join(' | '));
}"""


def _violations(page) -> list[str]:
    # Evaluated through the DevTools protocol, so the page's own CSP stays as served.
    page.evaluate(AXE.read_text(encoding="utf-8") + "\n;0")
    found = page.evaluate(_RUN, TAGS)
    # The exemption holds only while the markers themselves are full-size targets.
    small = page.evaluate("() => Array.from(document.querySelectorAll('.leaflet-marker-pane "
                          ".leaflet-interactive')).filter(e => { const b = "
                          "e.getBoundingClientRect(); return b.width < 24 || b.height < 24; })"
                          ".length")
    return found + ([f"{small} map markers smaller than 24 px"] if small else [])


@pytest.mark.parametrize("width", WIDTHS)
def test_worker_map_with_list_and_card(browser, amap_server, width):
    ctx, page = _context(browser, width)
    try:
        page.goto(amap_server.url + "/")
        page.click("#locate")
        page.wait_for_selector(".result-btn")
        assert _violations(page) == []
        page.locator(".result-btn").first.click()
        page.wait_for_selector("#card:not([hidden]) #card-nav a")
        assert _violations(page) == []
    finally:
        ctx.close()


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("path", ["/embed?center=34.7536,113.6645&zoom=16", "/embed/builder",
                                  "/planner"])
def test_other_public_pages(browser, amap_server, width, path):
    ctx, page = _context(browser, width)
    try:
        page.goto(amap_server.url + path)
        # The planner shows a first answer and reloads itself when the full run is
        # in; check the page the planner ends up reading.
        planner_settled(page)
        page.wait_for_load_state("networkidle")
        assert _violations(page) == []
    finally:
        ctx.close()


def _tab_to(page, predicate: str, limit: int = 40) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        js = f"() => {{ const e = document.activeElement; return !!e && ({predicate}); }}"
        if page.evaluate(js):
            return
    raise AssertionError(f"{limit} presses of Tab never reached {predicate}")


def test_keyboard_only_finds_a_station_and_opens_its_navigation(browser, amap_server):
    ctx = browser.new_context(viewport={"width": 360, "height": 740}, locale="zh-CN")
    # Outside addresses (tiles, the navigation service) answer empty, in every tab.
    ctx.route("https://**/*", lambda route: route.fulfill(status=200, body=""))
    page = ctx.new_page()
    try:
        page.goto(amap_server.url + "/")
        _tab_to(page, "e.id === 'search-q'")
        page.keyboard.type("洛阳")
        page.keyboard.press("Enter")
        page.wait_for_selector(".search-hit")
        _tab_to(page, "e.classList.contains('search-hit')")
        page.keyboard.press("Enter")
        page.wait_for_selector(".result-btn")
        _tab_to(page, "e.classList.contains('result-btn')")
        name = page.evaluate("() => document.activeElement.querySelector('.result-name')"
                             ".textContent")
        page.keyboard.press("Enter")
        page.wait_for_selector("#card:not([hidden])")
        assert page.locator("#card-name").inner_text() == name
        _tab_to(page, "e.classList.contains('nav-amap')", limit=15)
        with ctx.expect_page() as opened:
            page.keyboard.press("Enter")
        assert opened.value.url.startswith("https://uri.amap.com/navigation")
        # Esc closes the card and focus goes back to the list entry.
        page.keyboard.press("Escape")
        assert page.locator("#card").is_hidden()
        assert page.evaluate("() => document.activeElement.classList.contains('result-btn')")
    finally:
        ctx.close()
