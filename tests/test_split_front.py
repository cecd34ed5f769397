"""Reads apart from writes (docs/deploy.md): nginx sends each request by its method to
one of two ``locator serve`` processes on the same data, and a worker's report and a
union's edit work across them as on one server.

Real parts: Debian's nginx, two server processes at their default settings (rate
limits and the report challenge on), both living databases.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import geopandas as gpd
import pytest

from locator import create_app
from locator.living import accounts
from tests.conftest import DEMO
from tests.front import CookieClient, nginx_path, split_front
from tests.staff import PASSWORD, altcha_answer

pytestmark = [pytest.mark.slow, pytest.mark.skipif(
    nginx_path() is None, reason="nginx is not installed; `make test` installs nginx-light")]


def _served_by(headers) -> int:
    return int(headers["X-Upstream"].rsplit(":", 1)[1])


def test_reports_and_edits_cross_the_split(staff_cfg):
    data = Path(staff_cfg["DATA_DIR"])
    accounts.add(create_app(staff_cfg).config, "jinshui@union.example", PASSWORD,
                 union="410105", role="editor")
    env = {"LOCATOR_DATABASE_URL": staff_cfg["DATABASE_URL"]} if staff_cfg["DATABASE_URL"] \
        else {}
    frame = gpd.read_file(DEMO)
    live = frame[(frame["status"] == "open") & (frame["county_adcode"] == "410105")]
    row = live.iloc[0]
    sid, lon, lat = str(row["id"]), float(row.geometry.x), float(row.geometry.y)
    near = f"/api/v1/nearest?lat={lat:.6f}&lon={lon:.6f}&k=1"

    with split_front(env, data_dir=data) as front:
        ports = {}
        worker, editor = CookieClient(front.port), CookieClient(front.port)

        # A worker reports: the challenge comes from the read side, the report goes to
        # the write side, which must accept a challenge the other process signed.
        status, challenge, head = worker.call("GET", "/api/v1/challenge")
        assert status == 200, challenge
        ports["read"] = _served_by(head)
        status, got, head = worker.call("POST", f"/api/v1/stations/{sid}/reports",
                                        {"reason": "no_water", "text": "水桶空了",
                                         "altcha": altcha_answer(challenge)})
        assert status == 201, got
        ports["write"] = _served_by(head)
        assert ports["read"] != ports["write"]
        status, got, head = worker.call("GET", f"/api/v1/reports/{got['code']}")
        assert status == 200 and _served_by(head) == ports["read"], got

        # The union logs in on the write side and is known on the read side.
        status, page, head = editor.call("GET", "/login")
        assert status == 200 and _served_by(head) == ports["read"]
        token = re.search(r'name="csrf_token" value="([^"]+)"', page["text"]).group(1)
        status, got, head = editor.call("POST", "/login", {"email": "jinshui@union.example",
                                                           "password": PASSWORD},
                                        {"X-CSRFToken": token})
        assert status == 200 and _served_by(head) == ports["write"], got
        csrf = got["csrf_token"]
        status, queue, head = editor.call("GET", "/api/v1/admin/cases")
        assert status == 200 and _served_by(head) == ports["read"], queue
        assert [c["station_id"] for c in queue["cases"]] == [sid]

        # An edit made through the write side reaches the map the read side serves.
        status, _, head = editor.call("GET", f"/api/v1/admin/stations/{sid}")
        assert status == 200
        status, got, written = editor.call("PATCH", f"/api/v1/admin/stations/{sid}",
                                           {"phone": "0371-6100001"},
                                           {"X-CSRFToken": csrf, "If-Match": head["ETag"]})
        assert status == 200 and _served_by(written) == ports["write"], got
        head = written
        deadline = time.monotonic() + 30
        while True:
            status, body, seen = worker.call("GET", near)
            assert status == 200 and _served_by(seen) == ports["read"]
            props = body["features"][0]["properties"]
            if props["id"] == sid and props.get("phone") == "0371-6100001":
                break
            assert time.monotonic() < deadline, props
            time.sleep(0.2)

        # A second edit from the version the first one replaced is refused, with the
        # version saved meanwhile, not applied over it.
        status, got, _ = editor.call("PATCH", f"/api/v1/admin/stations/{sid}",
                                     {"phone": "0371-6100002"},
                                     {"X-CSRFToken": csrf, "If-Match": head["ETag"]})
        assert status == 200, got
        status, got, _ = editor.call("PATCH", f"/api/v1/admin/stations/{sid}",
                                     {"phone": "0371-6100003"},
                                     {"X-CSRFToken": csrf, "If-Match": head["ETag"]})
        assert status == 409 and got["code"] == "edit_conflict", got
        assert got["current"]["phone"] == "0371-6100002"
