"""An editor marks a station temporarily closed from the work queue at 360x740, and the
public card shows the "closed until" chip; an editor whose edit went stale sees both
versions and reloads. On SQLite/files and PostgreSQL/PostGIS."""

from __future__ import annotations

from datetime import date, timedelta

import geopandas as gpd
import pytest

from locator import create_app
from locator.living import accounts, edits
from locator.storage import base
from tests.browser.conftest import serve
from tests.conftest import DEMO
from tests.staff import PASSWORD

pytestmark = pytest.mark.browser
REOPENS = (date.today() + timedelta(days=14)).isoformat()


@pytest.fixture
def live(staff_cfg):
    app = create_app(staff_cfg)
    accounts.add(app.config, "jinshui@union.example", PASSWORD, union="410105", role="editor")
    for server in serve(app):
        server.app = app
        yield server


def _editing(live, browser, nth):
    """A 360x740 phone, logged in as the 金水区 editor, with the nth open station of
    金水区 loaded into the edit form."""
    f = gpd.read_file(DEMO)
    station = f[(f["county_adcode"] == "410105") & (f["status"] == "open")].iloc[nth]
    ctx = browser.new_context(viewport={"width": 360, "height": 740}, locale="zh-CN")
    page = ctx.new_page()
    page.route("https://**/*", lambda route: route.fulfill(status=204, body=""))
    page.goto(f"{live.url}/login")
    page.fill("#email", "jinshui@union.example")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live.url}/admin*")
    page.fill("#edit-id", station["id"])
    page.click("#edit-load")
    page.wait_for_function("() => !document.getElementById('edit-fields').disabled")
    return ctx, page, station


def test_editor_closes_a_station_for_a_while_and_the_card_says_until_when(live, browser):
    ctx, page, station = _editing(live, browser, 0)
    assert station["name"] in page.text_content("#edit-name")
    page.select_option("#edit-status", "temporarily_closed")
    page.click("#edit-save")  # no reopening date yet: refused, readable, in Chinese
    page.wait_for_function("() => document.getElementById('edit-status-line').textContent")
    assert "恢复开放日期" in page.text_content("#edit-status-line")
    page.fill("#edit-reopens", REOPENS)
    page.click("#edit-save")
    page.wait_for_function(
        "() => document.getElementById('edit-status-line').textContent.includes('已保存')")

    page.goto(f"{live.url}/?lat={station.geometry.y}&lon={station.geometry.x}")
    page.wait_for_function("() => window.locatorApp")
    page.evaluate("id => window.locatorApp.openStation(id)", station["id"])
    chip = page.locator("#card-meta .badge-closed-until")
    chip.wait_for(timeout=15_000)
    assert chip.text_content() == f"暂停开放，预计 {REOPENS} 恢复"
    assert page.text_content("#card-verified") == date.today().isoformat()
    box = chip.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 360
    ctx.close()


def test_a_stale_edit_shows_both_versions_and_the_officer_reloads(live, browser):
    ctx, page, station = _editing(live, browser, 1)
    # A second officer saves first, after this page read the station.
    theirs = edits.edit(live.app.config, base.open_source(live.app.config), station["id"],
                        {"phone": "0371-11112222"}, if_match="*", actor="other@union.example",
                        roles={"410100": "editor"})
    assert theirs.station["phone"] == "0371-11112222"
    page.fill("#edit-phone", "0371-33334444")
    page.click("#edit-save")
    box = page.locator("[data-testid=edit-conflict]")
    box.wait_for(state="visible", timeout=15_000)
    assert "您的修改没有保存" in page.text_content("#edit-status-line")
    row = page.locator("#edit-conflict-rows tr[data-field=phone]")
    cells = [c.strip() for c in row.locator("th, td").all_text_contents()]
    assert cells == ["电话", "0371-11112222", "0371-33334444"]
    assert "differs" in row.get_attribute("class")
    # The officer's typing stays in the form until they choose to reload.
    assert page.input_value("#edit-phone") == "0371-33334444"
    assert page.text_content("#edit-conflict-title") == "版本冲突：您的修改没有保存"
    page.click("#edit-reload")
    box.wait_for(state="hidden", timeout=15_000)
    assert page.input_value("#edit-phone") == "0371-11112222"
    page.fill("#edit-phone", "0371-33334444")
    page.click("#edit-save")
    page.wait_for_function(
        "() => document.getElementById('edit-status-line').textContent.includes('已保存')")
    live_frame = base.open_source(live.app.config).frame().set_index("id")
    assert live_frame.loc[station["id"], "phone"] == "0371-33334444"
    # A state conflict is a 409 too, told apart by its code and said in Chinese.
    page.fill("#edit-merge", station["id"])
    page.click("#edit-merge-go")
    page.wait_for_function("() => document.getElementById('edit-status-line').textContent"
                           ".includes('不能把站点合并到它自己')")
    assert page.is_hidden("[data-testid=edit-conflict]")
    ctx.close()
