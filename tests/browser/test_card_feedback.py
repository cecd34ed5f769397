"""Report a problem and "still here" from the station card of / and the popup of /embed,
on a 360x740 phone in Chromium, with the proof-of-work challenge on (the defaults).

Hostile report text must come back as text on the ticket page and in /admin, and the
photo the worker attaches reaches the officer, re-encoded. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import io
from datetime import date

import geopandas as gpd
import pytest
from PIL import Image

from locator import create_app
from locator.domain import i18n
from locator.living import accounts
from tests.browser.conftest import api_json, in_first_screen, serve
from tests.conftest import DEMO
from tests.staff import PASSWORD

pytestmark = pytest.mark.browser
HOSTILE = "<img src=x onerror=alert(1)>"
PROOF_S = 60_000  # the widget hashes up to 50,000 candidates, under load too


@pytest.fixture
def live(staff_cfg):
    app = create_app(staff_cfg)
    accounts.add(app.config, "jinshui@union.example", PASSWORD, union="410105", role="editor")
    yield from serve(app)


@pytest.fixture
def station():
    f = gpd.read_file(DEMO)
    return f[(f["county_adcode"] == "410105") & (f["status"] == "open")].iloc[3]


def _phone(browser):
    ctx = browser.new_context(viewport={"width": 360, "height": 740}, locale="zh-CN",
                              has_touch=True)
    page = ctx.new_page()
    page.dialogs = []
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    page.route("https://**/*", lambda route: route.fulfill(status=204, body=""))
    return ctx, page


def _photo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (640, 480), (30, 120, 200)).save(out, "JPEG")
    return out.getvalue()


def _confirmed_today(base, sid) -> bool:
    props = api_json(f"{base}/api/v1/stations/{sid}?links=none")["properties"]
    return props["last_verified"] == date.today().isoformat()


def test_card_report_and_confirm_reach_the_ticket_and_the_queue_as_text(live, browser,
                                                                        station):
    zh = i18n.STRINGS["zh"]
    sid = station["id"]
    assert not _confirmed_today(live.url, sid)
    ctx, page = _phone(browser)
    page.goto(f"{live.url}/?station={sid}")
    page.wait_for_function(f"() => document.getElementById('card-name').textContent"
                           f" === {station['name']!r}")
    assert page.text_content("#card-report") == "报告问题"
    assert page.text_content("#card-confirm") == zh["still_fine"]
    in_first_screen(page, "#card-report")
    in_first_screen(page, "#card-confirm")

    page.tap("#card-confirm")
    page.wait_for_function(
        f"() => document.getElementById('card-feedback-status').textContent"
        f" === {zh['confirm_sent']!r}", timeout=PROOF_S)
    assert _confirmed_today(live.url, sid)

    page.tap("#card-report")
    page.wait_for_url(f"**/report/{sid}*")
    assert page.locator("input[name=reason]").count() == len(i18n.REASON_LABELS["zh"])
    assert page.locator("#website").count() == 1  # the honeypot
    page.check("input[value=no_water]")
    page.fill("#report-text", HOSTILE)
    page.set_input_files("#report-photo", files=[
        {"name": "现场.jpg", "mimeType": "image/jpeg", "buffer": _photo()}])
    page.wait_for_function("() => { const i = document.querySelector('input[name=altcha]');"
                           " return i && i.value.length > 0; }", timeout=PROOF_S)
    page.tap("[data-testid=report-send]")
    link = page.locator("[data-testid=report-ticket-link]")
    link.wait_for(timeout=30_000)
    href = link.get_attribute("href")
    assert href and href.startswith("/r/")
    code = href.split("/r/")[1].split("?")[0]
    assert code in page.text_content("[data-testid=report-status]")
    link.tap()
    page.wait_for_url(f"**/r/{code}*")
    assert page.text_content("[data-testid=ticket-code]") == code
    assert page.text_content("[data-testid=ticket-text]") == HOSTILE
    assert page.locator("main img").count() == 0 and page.dialogs == []
    ctx.close()

    staff = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    officer = staff.new_page()
    officer.dialogs = []
    officer.on("dialog", lambda d: (officer.dialogs.append(d.message), d.dismiss()))
    officer.goto(f"{live.url}/login")
    officer.fill("#email", "jinshui@union.example")
    officer.fill("#password", PASSWORD)
    officer.click("button[type=submit]")
    officer.wait_for_url(f"{live.url}/admin*")
    row = officer.locator("table.cases tr", has_text=station["name"])
    row.wait_for()
    assert row.locator("q").text_content() == HOSTILE
    assert row.locator("img[src=x]").count() == 0
    pic = row.locator("img[data-testid=case-photo]")
    pic.wait_for()
    officer.wait_for_function("img => img.complete && img.naturalWidth > 0",
                              arg=pic.element_handle())
    assert pic.evaluate("img => [img.naturalWidth, img.naturalHeight]") == [640, 480]
    assert officer.dialogs == []
    staff.close()


def test_embed_popup_offers_report_and_confirm(live, browser, station):
    zh = i18n.STRINGS["zh"]
    sid = station["id"]
    ctx, page = _phone(browser)
    lon, lat = station.geometry.x, station.geometry.y
    page.goto(f"{live.url}/embed?center={lat},{lon}&zoom=17&lang=zh")
    page.wait_for_function(
        "id => window.locatorEmbed && window.locatorEmbed.markers.getLayers()"
        ".some(m => m.stationId === id)", arg=sid, timeout=30_000)
    page.evaluate("id => window.locatorEmbed.markers.getLayers()"
                  ".find(m => m.stationId === id).openPopup()", sid)
    report = page.locator(".leaflet-popup [data-testid=embed-report]")
    report.wait_for()
    page.wait_for_timeout(500)  # the popup's pan into view
    in_first_screen(page, ".leaflet-popup [data-testid=embed-report]")
    in_first_screen(page, ".leaflet-popup [data-testid=embed-confirm]")
    assert report.text_content() == "报告问题"

    page.tap(".leaflet-popup [data-testid=embed-confirm]")
    page.wait_for_function(
        f"() => (document.querySelector('.leaflet-popup [data-testid=embed-feedback-status]')"
        f" || {{}}).textContent === {zh['confirm_sent']!r}", timeout=PROOF_S)
    assert _confirmed_today(live.url, sid)

    # The form opens in a tab of its own: the embed may sit in another site's frame.
    with ctx.expect_page() as opened:
        report.tap()
    form = opened.value
    form.wait_for_load_state()
    assert f"/report/{sid}" in form.url
    assert form.locator("input[name=reason]").count() == len(i18n.REASON_LABELS["zh"])
    assert form.locator("altcha-widget").count() == 1 and form.locator("#website").count() == 1
    ctx.close()
