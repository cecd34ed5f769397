"""The staff and feedback endpoints fuzzed with every schemathesis check, logged out and in.

The admin API (``/api/v1/admin/...``), the workers' feedback endpoints and the pages
around them get positive and negative cases twice: once with no session, where every
admin operation must refuse (401, or 403 for a missing CSRF token) and none may give
a 5xx; and once as the logged-in editor of one county union (金水区, 410105), who
sends the session cookie and ``X-CSRFToken`` on every case, with some positive cases
aimed at a real station of that county and its real ETag so that edits, histories
and conflicts are reached, not only 404s. The run is bounded by a fixed number of
derandomized cases per operation and a time budget.

Aimed cases also get the values no schema can state: a reopening date that is not in
the past, readable opening hours and a closing reason; and a station list sent as
``text/csv`` is a real little list of 金水区 rows, as an officer's would be, and a
photo sent as ``image/png`` or ``image/jpeg`` a real picture.
"""

from __future__ import annotations

import os
import re
import time
from datetime import date, timedelta

import pytest
import requests
from hypothesis import strategies as st

from locator import create_app
from locator.living import accounts
from tests.browser.conftest import serve
from tests.importfiles import label_point
from tests.staff import PASSWORD
from tests.test_openapi import _fuzz

EXAMPLES = int(os.environ.get("LOCATOR_STAFF_FUZZ_EXAMPLES", "8"))
BUDGET_S = 90.0
EDITOR = "fuzz-editor@jinshui.example"
# The operations fuzzed here: the staff and feedback tags, less the two that would end or
# replace the session the authenticated run relies on (the all-operations fuzz covers them).
TAGS = {"staff", "feedback"}
SESSION_OPS = {"POST /login", "POST /logout"}


@pytest.fixture(scope="module")
def staff_server(small_path, tmp_path_factory):
    """A server of its own (data folder, accounts, cases) with a county editor and a case."""
    cfg = {"TESTING": True, "DATA_PATH": str(small_path), "TILES": "osm",
           "DATA_DIR": str(tmp_path_factory.mktemp("fuzz-staff")),
           "REPORT_CHALLENGE": False, "RATE_LIMIT_ENABLED": False,
           "REPORT_RATE_LIMIT": "100000 per minute",
           # Plain HTTP on loopback: the Secure flag is tested on the HTTPS client elsewhere.
           "SESSION_COOKIE_SECURE": False, "DATA_RELOAD_SECONDS": 0}
    app = create_app(cfg)
    accounts.add(app.config, EDITOR, PASSWORD, union="410105", role="editor")
    for live in serve(app):
        # A report and a suggestion, so that case ids the fuzzer draws can exist.
        assert requests.post(f"{live.url}/api/v1/stations/t-000/reports",
                             json={"reason": "no_water"}, timeout=30).status_code == 201
        assert requests.post(f"{live.url}/api/v1/suggestions", timeout=30, json={
            "lat": 34.776, "lon": 113.686, "name": "新驿站"}).status_code == 201
        yield live


def _login(base: str) -> tuple[str, str]:
    """Log the editor in as a browser would; the session cookie and its CSRF token."""
    s = requests.Session()
    page = s.get(f"{base}/login", timeout=30).text
    form_token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    r = s.post(f"{base}/login", json={"email": EDITOR, "password": PASSWORD},
               headers={"X-CSRFToken": form_token}, timeout=30)
    assert r.status_code == 200 and r.json()["logged_in"], r.text
    return s.cookies["session"], r.json()["csrf_token"]


def _officer_auth(cookie: str, token: str):
    """Schemathesis auth that sends the editor's session on every case."""
    from schemathesis.auths import AuthStorage

    storage: AuthStorage = AuthStorage()

    class Officer:
        def get(self, case, ctx):
            return cookie, token

        def set(self, case, data, ctx):
            case.cookies = {**(case.cookies or {}), "session": data[0]}
            case.headers = {**dict(case.headers or {}), "X-CSRFToken": data[1]}

    storage(refresh_interval=None)(Officer)
    return storage


# What the schema leaves to the server's own rules, filled in for aimed edits.
RULED = {"reopens_on": (date.today() + timedelta(days=30)).isoformat(),
         "opening_hours": "Mo-Fr 08:00-18:00; PH off", "closed_reason": "拆除 demolished"}


def _aim(base: str, cookie: str):
    """Point some positive cases at a station of the editor's county, with its ETag."""
    ids = ["t-000", "t-001", "t-003", "t-004"]

    def aim(case, choice):
        if choice is None or "station_id" not in (case.path_parameters or {}):
            return
        sid, tag = choice
        case.path_parameters["station_id"] = ids[sid]
        if "If-Match" in (case.headers or {}):
            if tag == "current":
                got = requests.get(f"{base}/api/v1/admin/stations/{ids[sid]}",
                                   cookies={"session": cookie}, timeout=30)
                tag = got.headers.get("ETag", "*")
            case.headers["If-Match"] = tag
        if isinstance(case.body, dict):
            case.body.update({k: v for k, v in RULED.items() if case.body.get(k)})

    choices = st.none() | st.tuples(st.integers(0, len(ids) - 1),
                                    st.sampled_from(["*", "current", '"0"']))
    return aim, choices


def _station_lists():
    """CSV station lists of one to three 金水区 rows, for the import's ``text/csv`` part."""
    jx, jy = label_point("410105")
    row = st.tuples(st.text("驿站工会服务点甲乙丙丁0123456789", min_size=2, max_size=12),
                    st.floats(-0.003, 0.003), st.floats(-0.003, 0.003))
    return st.lists(row, min_size=1, max_size=3).map(lambda rows: (
        "名称,类型,经度,纬度\n" + "".join(f"{n},rest_station,{jx + dx:.6f},{jy + dy:.6f}\n"
                                        for n, dx, dy in rows)).encode())


def _pictures(fmt: str):
    """Small real pictures (a photo part says image/jpeg or image/png and must be one)."""
    import io

    from PIL import Image

    def encode(size: tuple[int, int], colour: tuple[int, int, int]) -> bytes:
        out = io.BytesIO()
        Image.new("RGB", size, colour).save(out, format=fmt)
        return out.getvalue()

    side = st.integers(1, 64)
    return st.builds(encode, st.tuples(side, side), st.tuples(*[st.integers(0, 255)] * 3))


@pytest.fixture
def upload_media_types():
    """What the document's upload parts name, as real content of that type."""
    from schemathesis.specs.openapi.media_types import (
        MEDIA_TYPE_STRATEGIES,
        register_media_type,
    )

    made = {"text/csv": _station_lists(), "image/png": _pictures("PNG"),
            "image/jpeg": _pictures("JPEG")}
    for name, strategy in made.items():
        register_media_type(name, strategy)
    yield
    for name in made:
        MEDIA_TYPE_STRATEGIES.pop(name, None)


def _operations(api):
    for result in api.get_all_operations():
        op = result.ok()
        tags = set(op.definition.raw.get("tags", []))
        if tags & TAGS and op.label not in SESSION_OPS:
            yield op


@pytest.mark.slow  # a few tens of seconds: some hundreds of requests
def test_fuzz_staff_and_feedback_endpoints_logged_out_and_in(staff_server,
                                                             upload_media_types):
    import schemathesis
    from schemathesis.generation import GenerationMode

    api = schemathesis.openapi.from_url(staff_server.url + "/openapi.json")
    cookie, token = _login(staff_server.url)
    auth = _officer_auth(cookie, token)
    aim, choices = _aim(staff_server.url, cookie)
    deadline = time.monotonic() + BUDGET_S
    failures: list[str] = []
    details: dict[str, str] = {}
    sent = {"out": 0, "in": 0}
    ops = list(_operations(api))
    assert {op.label for op in ops} >= {
        "GET /api/v1/admin/cases", "PATCH /api/v1/admin/stations/{station_id}",
        "POST /api/v1/admin/cases/{case_id}/resolve", "GET /api/v1/admin/photos/{photo_id}",
        "GET /api/v1/admin/stations/{station_id}/history", "POST /api/v1/admin/imports",
        "POST /api/v1/stations/{station_id}/reports", "POST /api/v1/suggestions"}
    for who in ("out", "in"):
        for op in ops:
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                positive = mode == GenerationMode.POSITIVE
                sent[who] += _fuzz(
                    op, mode, staff_server.url, deadline, failures, examples=EXAMPLES,
                    all_checks=True, details=details, label=f"[{who}] ",
                    auth=auth if who == "in" else None,
                    aim=(aim, choices) if who == "in" and positive else None)
    distinct = sorted(set(failures))
    print(f"schemathesis sent {sent}; {len(distinct)} distinct failures")
    for line in distinct:
        print("  " + line + "\n    " + details.get(line, ""))
    assert not distinct, distinct[:10]
    # The time budget must not quietly skip the fuzzing, logged out or in.
    assert min(sent.values()) >= 4 * len(ops)
