"""The planner page in real Chromium: table, map, chart, no CDN, hostile text stays text."""

from __future__ import annotations

import json
import shutil
from urllib.parse import urlparse

import pytest

from locator import create_app
from tests.browser.conftest import planner_settled, serve
from tests.conftest import HOSTILE_NAME, ROOT

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory, small_path):
    folder = tmp_path_factory.mktemp("bounds")
    for f in (ROOT / "data" / "boundaries").glob("*.geojson"):
        shutil.copy(f, folder / f.name)
    county = folder / "henan_county.geojson"
    data = json.loads(county.read_text(encoding="utf-8"))
    for feat in data["features"]:
        if str(feat["properties"]["district_adcode"]) == "410105":
            feat["properties"]["district_name"] = HOSTILE_NAME
    county.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    app = create_app({"TESTING": True, "DATA_PATH": str(small_path), "TILES": "osm",
                      "BOUNDARIES_DIR": str(folder), "GRID_CELL_M": 1000.0,
                      "POPULATION_PATH": str(folder / "absent.csv"),
                      "SUGGEST_TIME_LIMIT": 5.0})
    yield from serve(app)


def test_planner_loads_sorts_and_keeps_hostile_text(browser, hostile_server):
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = ctx.new_page()
    dialogs: list[str] = []
    errors: list[str] = []
    outside: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on("pageerror", lambda e: errors.append(str(e)))

    def record(route):
        outside.append(route.request.url)
        route.fulfill(status=204, body="")

    page.route("https://**/*", record)
    page.goto(hostile_server.url + "/planner?radius=1000&n=3&kind=rest_station")
    page.wait_for_selector("#county-table tbody tr", timeout=60_000)
    # A first answer is shown while the full run goes on, and the page reloads
    # itself when that is in: read the final page, as a planner would.
    planner_settled(page)
    page.wait_for_selector("#county-table tbody tr", timeout=60_000)
    rows = page.locator("#county-table tbody tr")
    assert rows.count() == 157
    assert page.locator(".leaflet-container").count() == 1
    assert page.locator("path.leaflet-interactive").count() >= 157
    assert page.locator("[data-testid=legend]").is_visible()
    assert page.locator("#curve polyline").count() == 1
    # The six hand-made stations are not demo data: no demo banner.
    assert page.locator("[data-testid=demo-banner]").count() == 0
    # The hostile county name appears literally in the table and made no markup.
    cells = page.locator("#county-table td", has_text="<img src=x")
    assert cells.count() == 1
    assert page.locator("img[src=x]").count() == 0
    # The hostile county's tooltip shows its name as text.
    target = page.evaluate("""() => { let out = null; for (const k of Object.keys(window)) {
        const v = window[k];
        if (k.startsWith('geo_json') && v && v.eachLayer) {
          v.eachLayer(l => {
            if ((l.feature.properties.name || '').includes('img')) {
              const map = l._map; map.fitBounds(l.getBounds(), {animate: false});
              const c = l.getCenter ? l.getCenter() : l.getBounds().getCenter();
              const pt = map.latLngToContainerPoint(c);
              const box = map.getContainer().getBoundingClientRect();
              out = [box.left + pt.x, box.top + pt.y];
            } }); } } return out; }""")
    assert target is not None
    page.mouse.move(target[0], target[1])
    tip = page.locator(".leaflet-tooltip")
    tip.first.wait_for()
    assert HOSTILE_NAME in tip.first.inner_text()
    assert page.locator("img[src=x]").count() == 0
    # Without a demand layer the table opens with the least covered county first,
    # and a click on that header reverses it.
    def shares():
        return page.locator("#county-table tbody tr td:nth-child(5)").evaluate_all(
            "tds => tds.map(t => parseFloat(t.dataset.value))")

    assert shares() == sorted(shares())
    page.click("#county-table th:nth-child(5)")
    assert shares() == sorted(shares(), reverse=True)
    page.click("#county-table th:nth-child(5)")
    assert shares() == sorted(shares())
    # A preset fills in its radius and kinds.
    page.select_option("select[name=preset]", "truck")
    assert page.input_value("input[name=radius]") == "30000"
    assert page.is_checked("input[name=kind][value=driver_home]")
    assert not page.is_checked("input[name=kind][value=rest_station]")
    # Downloads carry the parameters actually shown.
    href = page.get_attribute("a[href*='download/suggestions.csv']", "href")
    assert "n=3" in href and "radius=1000" in href
    assert dialogs == [] and errors == []
    assert all(urlparse(u).hostname in ("tile.openstreetmap.org",) for u in outside), outside
    ctx.close()
