"""On a 360x740 phone: a street of a real OSM extract typed in the search box, picked, listed."""

from __future__ import annotations

import numpy as np
import pytest
from pyproj import Geod

from locator import create_app
from locator.geo import osmnames
from locator.stations import dataset, osm_search
from tests.browser.conftest import PHONE_H, PHONE_W, in_first_screen, serve
from tests.conftest import DEMO

pytestmark = pytest.mark.browser

ROAD = "Suntionkatu"  # a street of pyrosm's test extract (Karhula, Kotka)


@pytest.fixture(scope="module")
def osm_server(tmp_path_factory):
    import pyrosm

    table = osmnames.read(pyrosm.get_data("test_pbf"))
    path = osm_search.save(osm_search.build(table), tmp_path_factory.mktemp("osm_names"))
    yield from serve(create_app({"TESTING": True, "DATA_PATH": str(DEMO), "TILES": "osm",
                                 "OSM_NAMES_PATH": str(path)}))


def test_typing_an_osm_street_and_picking_it_lists_the_nearest_stations(browser, osm_server):
    ctx = browser.new_context(viewport={"width": PHONE_W, "height": PHONE_H}, locale="zh-CN",
                              has_touch=True)
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.route("https://**/*", lambda route: route.abort())
    try:
        page.goto(osm_server.url + "/")
        page.fill("#search-q", "suntionkat")  # lower case, last letter missing
        hit = page.locator(".search-hit").first
        hit.wait_for()
        assert hit.inner_text().startswith(ROAD) and "OpenStreetMap" in hit.inner_text()
        hit.click()
        page.wait_for_selector(".result-btn")
        status = page.locator("#status").inner_text()
        assert "服务范围" in status  # Finland is far outside Henan
        in_first_screen(page, "#status")
        in_first_screen(page, ".result-btn")
        # The stations listed include the nearest one to the street, by geodesic distance
        # (open ones are listed first, so it need not be the first button).
        listed = page.locator(".result-btn").evaluate_all("els => els.map(e => e.dataset.id)")
        ds = dataset.read(DEMO)
        lon, lat = page.evaluate("() => [window.locatorApp.state.here.lon,"
                                 " window.locatorApp.state.here.lat]")
        d = Geod(ellps="WGS84").inv(np.full(len(ds), lon), np.full(len(ds), lat), ds.lon,
                                    ds.lat)[2]
        d[ds.status == dataset.CLOSED] = np.inf  # permanently closed ones are never listed
        assert str(ds.frame["id"].iloc[int(np.argmin(d))]) in listed
        assert errors == []
    finally:
        ctx.close()
