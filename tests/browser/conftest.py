"""Real Chromium (Debian's package) driven by Playwright against a live server."""

from __future__ import annotations

import json
import os
import shutil
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parent / "screenshots"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


class LiveServer:
    def __init__(self, app) -> None:
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()


def serve(app) -> Iterator[LiveServer]:
    live = LiveServer(app)
    try:
        yield live
    finally:
        live.stop()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail("Debian's chromium is not installed; `make test` installs it")
        pytest.skip("chromium not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def phone(browser):
    """A 360x740 phone in Zhengzhou with geolocation granted."""
    ctx = browser.new_context(viewport={"width": 360, "height": 740}, locale="zh-CN",
                              geolocation={"latitude": 34.7536, "longitude": 113.6645},
                              permissions=["geolocation"], has_touch=True)
    page = ctx.new_page()
    page.dialogs = []
    page.errors = []
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    # No tile server is reachable in tests; answer tile requests at once.
    page.route("https://**/*", lambda route: route.fulfill(status=204, body=""))
    yield page
    ctx.close()


@pytest.fixture(scope="session")
def shots_dir() -> Path:
    SHOTS.mkdir(exist_ok=True)
    return SHOTS


PHONE_W, PHONE_H = 360, 740
ZHENGZHOU = {"latitude": 34.7536, "longitude": 113.6645}


@pytest.fixture(scope="module")
def amap_server():
    """The demo data served with Amap tiles (GCJ-02), as a default install in China."""
    from locator import create_app
    from tests.conftest import DEMO

    yield from serve(create_app({"TESTING": True, "DATA_PATH": str(DEMO), "TILES": "amap"}))


def in_first_screen(page, selector: str) -> None:
    """The element's box lies fully inside the 360x740 screen as the user sees it now."""
    box = page.locator(selector).first.bounding_box()
    assert box is not None, selector
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE_W, (selector, box)
    assert box["y"] >= 0 and box["y"] + box["height"] <= PHONE_H, (selector, box)


def api_json(url: str) -> dict:
    with urllib.request.urlopen(url) as r:
        return json.load(r)


def station_xy(base: str, sid: str) -> list[float]:
    """A station's WGS-84 position, by the public API."""
    return api_json(f"{base}/api/v1/stations/{sid}?links=none")["geometry"]["coordinates"]


def planner_settled(page, timeout_s: float = 180.0) -> None:
    """Wait until the planner page shows its final plan.

    The page shows a first answer while the full run goes on, then reloads
    itself; a check made across that reload would see a page being torn down.
    """
    import time

    from playwright.sync_api import Error

    final = "() => !document.querySelector('[data-poll], [data-refine]')"
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            page.wait_for_load_state("load")
            origin = page.evaluate("() => performance.timeOrigin")
            if page.evaluate(final):
                # Settled when the same document still shows the final plan a moment
                # later. Not "networkidle": map tiles that a closed network never
                # answers can keep a page busy for longer than any timeout.
                page.wait_for_timeout(500)
                if page.evaluate("() => performance.timeOrigin") == origin \
                        and page.evaluate(final):
                    return
        except Error:
            pass  # the page reloaded under us: look again
        assert time.monotonic() < deadline, "the planner never showed its final plan"
        page.wait_for_timeout(300)
