"""Numbered suggested sites on the planner map never hide each other, in real Chromium.

Demand is put in a few streets of central Zhengzhou, so that the ten suggested
sites lie a few kilometres apart: at the province's default zoom (7, about 1 km
a pixel) their points are closer than a number is wide.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from locator import create_app
from tests.browser.conftest import planner_settled, serve
from tests.conftest import DEMO

pytestmark = pytest.mark.browser
LABEL_PX = 26


@pytest.fixture(scope="module")
def crowded_server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("crowd")
    rng = np.random.default_rng(5)
    pd.DataFrame({"lon": 113.66 + rng.normal(0, 0.05, 400),
                  "lat": 34.75 + rng.normal(0, 0.04, 400),
                  "weight": rng.integers(50, 500, 400)}).to_csv(folder / "riders.csv",
                                                                 index=False)
    app = create_app({"TESTING": True, "DATA_PATH": str(DEMO), "TILES": "none",
                      "GRID_CELL_M": 1000.0, "DEMAND_DIR": str(folder),
                      "POPULATION_PATH": str(folder / "absent.csv"),
                      "SUGGEST_TIME_LIMIT": 3.0})
    yield from serve(app)


BOXES = """() => Array.from(document.querySelectorAll('.leaflet-marker-pane .site-marker'))
  .map(el => { const p = el.getBoundingClientRect(), n = el.querySelector('.site-num')
                 .getBoundingClientRect();
               return {point: [p.left + p.width / 2, p.top + p.height / 2],
                       label: [n.left, n.top, n.right, n.bottom],
                       moved: el.classList.contains('moved'),
                       leader: el.querySelector('.site-leader').getBoundingClientRect().width,
                       text: el.innerText.trim()}; })"""


def _overlaps(boxes: list[list[float]]) -> list[tuple[int, int]]:
    out = []
    for i, a in enumerate(boxes):
        for j in range(i + 1, len(boxes)):
            b = boxes[j]
            if a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]:
                out.append((i, j))
    return out


def test_site_numbers_do_not_overlap_at_the_default_zoom(browser, crowded_server):
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(crowded_server.url + "/planner?radius=1000&n=10&demand=riders")
    planner_settled(page)
    page.wait_for_selector(".leaflet-marker-pane .site-marker .site-num", timeout=60_000)
    zoom = page.evaluate("""() => { for (const k of Object.keys(window)) {
        if (k.startsWith('map_') && window[k] instanceof L.Map) return window[k].getZoom(); } }""")
    assert zoom == 7
    sites = page.evaluate(BOXES)
    assert len(sites) == 10
    assert sorted(int(s["text"]) for s in sites) == list(range(1, 11))
    pts = np.array([s["point"] for s in sites])
    # The crowding is real: some points are closer than a number is wide ...
    d = np.hypot(*(pts[:, None, :] - pts[None, :, :]).transpose(2, 0, 1))
    assert (d[np.triu_indices(len(pts), 1)] < LABEL_PX).any()
    # ... yet no two numbers overlap, and every moved number has a leader to its point.
    assert _overlaps([s["label"] for s in sites]) == []
    for s in sites:
        x0, y0, x1, y1 = s["label"]
        on_point = x0 <= s["point"][0] <= x1 and y0 <= s["point"][1] <= y1
        assert s["moved"] != on_point
        if s["moved"]:
            assert s["leader"] > 0
    # Zooming in re-places them, still without overlap.
    page.evaluate("""() => { for (const k of Object.keys(window)) {
        if (k.startsWith('map_') && window[k] instanceof L.Map) window[k].setZoom(9,
        {animate: false}); } }""")
    # The placement runs just after the zoom ends: wait for it, under load too.
    page.wait_for_function("""() => { const b = Array.from(document.querySelectorAll(
        '.leaflet-marker-pane .site-num')).map(n => n.getBoundingClientRect());
        return b.every((x, i) => b.every((y, j) => j <= i || x.right <= y.left
          || y.right <= x.left || x.bottom <= y.top || y.bottom <= x.top)); }""",
                           timeout=15_000)
    assert _overlaps([s["label"] for s in page.evaluate(BOXES)]) == []
    assert errors == []
    ctx.close()
