"""An officer imports a station list in /admin, in Chromium at 1366 px: checks the file,
reads the row-by-row report (hostile cell text stays text), then publishes it."""

from __future__ import annotations

import geopandas as gpd
import pytest

from locator import create_app
from locator.living import accounts
from locator.stations import dataset
from locator.storage import base
from tests.browser.conftest import SHOTS, serve
from tests.browser.test_axe import AXE, TAGS
from tests.conftest import DEMO
from tests.importfiles import HOSTILE_PHONE, jinshui_list, nameless_list
from tests.staff import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def live(tmp_path):
    app = create_app({"DATA_DIR": str(tmp_path / "var"), "DATABASE_URL": "",
                      "DATA_RELOAD_SECONDS": 0})
    accounts.add(app.config, "jinshui@union.example", PASSWORD, union="410105", role="editor")
    src = base.open_source(app.config)
    src.publish(dataset.normalise(gpd.read_file(DEMO)), meta={"action": "import"})
    server = serve(app)
    yield next(server), src
    server.close()


def test_officer_checks_reads_the_report_and_publishes(live, browser, tmp_path):
    server, src = live
    before = src.version()
    listing = jinshui_list(tmp_path / "金水名单.csv")
    ctx = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{server.url}/login")
    page.fill("#email", "jinshui@union.example")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{server.url}/admin*")

    # A refused file: the reason reads in the page's language, first line of the report.
    page.set_input_files("#import-file", str(nameless_list(tmp_path / "无名称.csv")))
    page.click("[data-testid=import-check]")
    page.wait_for_function("() => document.querySelector('[data-testid=import-status]')"
                           ".textContent.includes('文件被拒绝')")
    status = page.text_content("[data-testid=import-status]")
    assert "没有找到站点名称列" in status and "no column" not in status
    first = page.locator("[data-testid=import-report] tbody tr").first
    assert "没有找到站点名称列" in first.inner_text()
    assert page.locator("[data-testid=import-publish]").is_hidden()

    page.set_input_files("#import-file", str(listing))
    page.select_option("#import-crs", "wgs84")
    page.click("[data-testid=import-check]")
    report = page.locator("[data-testid=import-report]")
    report.locator("tbody tr").first.wait_for()
    status = page.text_content("[data-testid=import-status]")
    assert "读取 4 行" in status and "可导入 2 行" in status and "新增 2" in status
    outside = report.locator("tbody tr", has_text="不在本工会辖区内")
    assert outside.count() == 1 and "二七区" in outside.inner_text()
    hostile = report.locator("tbody td", has_text="onerror")
    assert hostile.count() == 1 and hostile.text_content() == HOSTILE_PHONE
    assert page.locator("[data-testid=import-report] img").count() == 0
    assert src.version() == before  # a check publishes nothing
    # axe-core finds no WCAG 2.2 A/AA violation in the form and its report.
    page.evaluate(AXE.read_text(encoding="utf-8") + "\n;0")
    found = page.evaluate("tags => axe.run('#import-form', {runOnly: {type: 'tag', values: "
                          "tags}}).then(r => r.violations.map(v => v.id))", TAGS)
    assert found == []
    page.locator("#import-heading").scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "admin-import-report.png"))
    box = page.locator("[data-testid=import-publish]").bounding_box()
    assert box and box["x"] + box["width"] <= 1366

    page.click("[data-testid=import-publish]")
    page.wait_for_function("() => document.querySelector('[data-testid=import-status]')"
                           ".textContent.includes('已发布版本')")
    assert src.version() != before
    names = set(src.frame()["name"])
    assert {"金水测试驿站甲", "金水测试驿站乙"} <= names and "二七测试驿站" not in names
    assert page.evaluate("() => window.__pwned") is None and errors == []
    ctx.close()
