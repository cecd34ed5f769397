"""The feedback loop in Chromium at 360x740: a worker reports, the right union resolves,
the worker reads the reply. Default settings: the proof-of-work challenge is on."""

from __future__ import annotations

import geopandas as gpd
import pytest

from locator import create_app
from locator.living import accounts
from tests.browser.conftest import in_first_screen, serve
from tests.conftest import DEMO
from tests.staff import PASSWORD

pytestmark = pytest.mark.browser
HOSTILE = '<img src=x onerror="window.__pwned=1">已送水</b>'


@pytest.fixture
def live(staff_cfg):
    """A live server on SQLite or PostgreSQL, with an editor for 金水区 and one for 二七区."""
    app = create_app(staff_cfg)
    accounts.add(app.config, "jinshui@union.example", PASSWORD, union="410105", role="editor")
    accounts.add(app.config, "erqi@union.example", PASSWORD, union="410103", role="editor")
    yield from serve(app)


def _login(page, base, email):
    page.goto(f"{base}/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/admin*")


def test_worker_report_reaches_jinshui_and_the_reply_comes_back(live, browser):
    f = gpd.read_file(DEMO)
    station = f[(f["county_adcode"] == "410105") & (f["status"] == "open")].iloc[0]
    worker = browser.new_context(viewport={"width": 360, "height": 740}, locale="zh-CN")
    page = worker.new_page()
    page.goto(f"{live.url}/report/{station['id']}")
    assert station["name"] in page.text_content("[data-testid=report-station]")
    page.check("input[value=no_water]")
    page.fill("#report-text", "桶装水没有了")
    # The widget solves its challenge in the background; then the form goes through.
    page.wait_for_function("() => { const i = document.querySelector('input[name=altcha]');"
                           " return i && i.value.length > 0; }", timeout=30_000)
    page.click("[data-testid=report-send]")
    link = page.locator("[data-testid=report-ticket-link]")
    link.wait_for(timeout=15_000)
    in_first_screen(page, "[data-testid=report-status]")
    ticket = link.get_attribute("href")
    assert ticket and ticket.startswith("/r/")

    other = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    erqi = other.new_page()
    _login(erqi, live.url, "erqi@union.example")
    erqi.wait_for_selector("table.cases tbody tr")
    assert station["name"] not in erqi.text_content("table.cases")
    other.close()

    staff = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    officer = staff.new_page()
    _login(officer, live.url, "jinshui@union.example")
    row = officer.locator("table.cases tr", has_text=station["name"])
    row.wait_for()
    assert "没有饮用水" in row.text_content() and "桶装水没有了" in row.text_content()
    row.locator("[data-testid=reply]").fill(HOSTILE)
    row.locator("[data-testid=resolved]").click()
    officer.locator("table.cases tr", has_text=station["name"]).wait_for(state="detached")
    staff.close()

    page.goto(live.url + ticket)
    assert page.text_content("[data-testid=ticket-state]").strip() == "已处理"
    assert page.text_content("[data-testid=ticket-reply]").strip() == HOSTILE
    assert page.evaluate("() => window.__pwned") is None
    in_first_screen(page, "[data-testid=ticket-reply]")
    worker.close()
