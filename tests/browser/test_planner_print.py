"""The planner page as a meeting sees it: printed to A4, on a 360 px phone, with a bad value."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from locator import create_app
from tests.browser.conftest import planner_settled, serve
from tests.conftest import DEMO

pytestmark = [pytest.mark.browser, pytest.mark.slow]
QUERY = "/planner?radius=1000&n=5&kind=rest_station"


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("nopop")
    app = create_app({"TESTING": True, "DATA_PATH": str(DEMO), "TILES": "none",
                      "GRID_CELL_M": 2000.0, "POPULATION_PATH": str(folder / "absent.csv"),
                      "SUGGEST_TIME_LIMIT": 5.0})
    yield from serve(app)


def _open(browser, url, **ctx_args):
    ctx = browser.new_context(**ctx_args)
    page = ctx.new_page()
    page.goto(url)
    page.wait_for_selector("#county-table tbody tr", timeout=120_000)
    # A first answer is shown while the full run goes on, and the page reloads
    # itself when that is in: read the final page, as a planner would.
    planner_settled(page)
    page.wait_for_selector("#county-table tbody tr", timeout=60_000)
    return ctx, page


def test_print_gives_one_or_two_a4_pages(browser, demo_server):
    ctx, page = _open(browser, demo_server.url + QUERY,
                      viewport={"width": 1280, "height": 900}, locale="zh-CN")
    pdf = page.pdf(format="A4", print_background=True)
    reader = PdfReader(io.BytesIO(pdf))
    assert 1 <= len(reader.pages) <= 2, len(reader.pages)
    text = "".join(p.extract_text() or "" for p in reader.pages)
    # The summary keeps the figures against the 2023 report and the suggested sites.
    assert "2023" in text and "11,500" in text
    page.emulate_media(media="print")
    assert not page.locator("form.plan-form").is_visible()
    assert page.locator("#sites li").first.is_visible()
    ctx.close()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_fits_a_360px_phone(browser, demo_server, lang):
    ctx, page = _open(browser, f"{demo_server.url}{QUERY}&lang={lang}",
                      viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 360, width
    ctx.close()


def test_a_bad_value_is_a_message_in_the_form(browser, demo_server):
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = ctx.new_page()
    resp = page.goto(demo_server.url + "/planner?radius=abc")
    assert resp is not None and resp.status == 400
    msg = page.locator("form.plan-form .form-error")
    assert msg.is_visible() and "服务半径" in msg.inner_text()
    assert page.locator("pre").count() == 0 and '"status"' not in page.content()
    ctx.close()
