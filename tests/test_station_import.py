"""Web import of a station list by a union officer, on SQLite and PostgreSQL.

What is checked against the store itself (the live version's frame and the audit
table read with SQL): a check publishes nothing; a publish adds the officer's rows
of their own subtree under their union's source and nothing else; rows outside are
rejected in the report; a refused file, a foreign token, a missing CSRF token or a
missing login change nothing.
"""

from __future__ import annotations

import geopandas as gpd
import sqlalchemy as sa

from locator.living import accounts, db
from locator.stations import dataset
from locator.storage import base
from tests.conftest import DEMO
from tests.importfiles import HOSTILE_PHONE, jinshui_list, nameless_list
from tests.staff import PASSWORD, _app, login


def _audit(cfg) -> list[tuple[str, str, str | None]]:
    eng = sa.create_engine(db.database_url(cfg))
    with eng.connect() as conn:
        rows = conn.execute(sa.text("SELECT actor, action, after FROM audit "
                                    "WHERE action = 'import' ORDER BY id")).all()
    eng.dispose()
    return [tuple(r) for r in rows]


def _published(app):
    """The province's list as published by an earlier import (a web import keeps it)."""
    src = base.open_source(app.config)
    src.publish(dataset.normalise(gpd.read_file(DEMO)), meta={"action": "import", "source": "test"})
    return src


def _upload(client, path, token, **form):
    with path.open("rb") as fh:
        return client.post("/api/v1/admin/imports", data={"file": (fh, path.name), **form},
                           headers={"X-CSRFToken": token} if token else {},
                           content_type="multipart/form-data")


def test_check_then_publish_only_the_officers_rows(staff_cfg, tmp_path):
    app, client = _app(staff_cfg)
    accounts.add(app.config, "jinshui@union.example", PASSWORD, union="410105", role="editor")
    accounts.add(app.config, "erqi@union.example", PASSWORD, union="410103", role="editor")
    src = _published(app)
    before_version, before = src.version(), src.frame()
    listing = jinshui_list(tmp_path / "金水名单.csv")

    anonymous = _upload(client, listing, None)
    assert anonymous.status_code in (401, 403)
    token = login(client, "jinshui@union.example")
    assert _upload(client, listing, None).get_json()["code"] == "csrf_failed"

    r = _upload(client, listing, token, crs="wgs84")
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["source"] == "union-410105" and body["rows_read"] == 4
    assert body["accepted"] == 2 and body["rejected"] == 2
    assert body["summary"]["added"] == 2
    codes = {(row["row"], row["code"]) for row in body["report"]}
    outside = [row for row in body["report"] if row["code"] == "outside_subtree"]
    assert len(outside) == 1 and outside[0]["value"] == "二七区"
    assert "不在本工会辖区内" in outside[0]["reason_zh"]
    assert any(row["value"] == HOSTILE_PHONE for row in body["report"]), codes
    # Checking publishes nothing and records nothing.
    assert src.version() == before_version and _audit(app.config) == []

    _, other = _app(staff_cfg)
    other_token = login(other, "erqi@union.example")
    stolen = other.post(f"/api/v1/admin/imports/{body['token']}/publish",
                        headers={"X-CSRFToken": other_token})
    assert stolen.status_code == 404 and src.version() == before_version

    done = client.post(f"/api/v1/admin/imports/{body['token']}/publish",
                       headers={"X-CSRFToken": token})
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["version"] == src.version() != before_version
    after = src.frame()
    mine = after[after["source"] == "union-410105"]
    assert sorted(mine["name"]) == ["金水测试驿站乙", "金水测试驿站甲"]
    assert set(mine["county_adcode"]) == {"410105"}
    assert "二七测试驿站" not in set(after["name"])
    assert len(after) == len(before) + 2
    kept = after[after["source"] != "union-410105"].sort_values("id")["id"].tolist()
    assert kept == before.sort_values("id")["id"].tolist()
    audit = _audit(app.config)
    assert len(audit) == 1 and audit[0][0] == "jinshui@union.example"
    assert '"added": 2' in audit[0][2] and "410105" in audit[0][2]
    # The public answers follow at once.
    sid = mine["id"].iloc[0]
    assert client.get(f"/api/v1/stations/{sid}").status_code == 200

    again = client.post(f"/api/v1/admin/imports/{body['token']}/publish",
                        headers={"X-CSRFToken": token})
    assert again.status_code == 404 and len(_audit(app.config)) == 1


def test_a_refused_or_wrong_file_changes_nothing(staff_cfg, tmp_path):
    app, client = _app(staff_cfg)
    accounts.add(app.config, "jinshui@union.example", PASSWORD, union="410105", role="editor")
    src = base.open_source(app.config)
    token = login(client, "jinshui@union.example")
    first = _upload(client, jinshui_list(tmp_path / "z.csv"), token)
    assert first.status_code == 409 and first.get_json()["code"] == "no_live_version"
    assert src.version() is None
    _published(app)
    before = src.version()
    r = _upload(client, nameless_list(tmp_path / "x.csv"), token)
    assert r.status_code == 422
    body = r.get_json()
    # The one error shape, plus the report the document adds for a 422: it leads with
    # the refusal in both languages, as the CLI's report CSV does.
    assert set(body) == {"status", "code", "message", "field", "report"}
    assert body["code"] == "import_refused" and body["field"] == "name"
    head = body["report"][0]
    assert head["code"] == "file_refused" and head["row"] == 0 and head["column"] == "name"
    assert head["reason_en"] == body["message"] and "名称" in head["reason_zh"]
    bad = tmp_path / "list.exe"
    bad.write_bytes(b"MZ")
    assert _upload(client, bad, token).status_code == 400
    assert _upload(client, jinshui_list(tmp_path / "y.csv"), token,
                   union="410103").status_code == 403
    assert src.version() == before and _audit(app.config) == []
    uploads = tmp_path / "var" / "uploads"
    assert not uploads.exists() or not any(uploads.iterdir())


def test_checked_uploads_nobody_publishes_are_forgotten(staff_cfg, tmp_path):
    import os
    import time

    app, client = _app(staff_cfg)
    accounts.add(app.config, "jinshui@union.example", PASSWORD, union="410105", role="editor")
    _published(app)
    token = login(client, "jinshui@union.example")
    r = _upload(client, jinshui_list(tmp_path / "a.csv"), token, crs="wgs84")
    assert r.status_code == 200, r.get_json()
    first = r.get_json()["token"]
    uploads = tmp_path / "var" / "uploads"
    old = time.time() - 3 * 86400
    os.utime(uploads / first, (old, old))
    again = _upload(client, jinshui_list(tmp_path / "b.csv"), token, crs="wgs84")
    assert again.status_code == 200, again.get_json()
    second = again.get_json()["token"]
    assert sorted(p.name for p in uploads.iterdir()) == [second]
    gone = client.post(f"/api/v1/admin/imports/{first}/publish", headers={"X-CSRFToken": token})
    assert gone.status_code == 404


def test_a_form_field_without_a_name_is_a_clear_400_and_changes_nothing(staff_cfg):
    # A multipart part with no name reached the CSRF check as a None key, and it failed
    # with a 500; schemathesis found it on this route.
    app, client = _app(staff_cfg)
    accounts.add(app.config, "jinshui@union.example", PASSWORD, union="410105", role="editor")
    src = _published(app)
    before = src.version()
    token = login(client, "jinshui@union.example")
    body = (b'--b\r\nContent-Disposition: form-data\r\n\r\n410105\r\n'
            b'--b\r\nContent-Disposition: form-data; name="crs"\r\n\r\ngcj02\r\n--b--\r\n')
    r = client.post("/api/v1/admin/imports", data=body, headers={"X-CSRFToken": token},
                    content_type="multipart/form-data; boundary=b")
    assert r.status_code == 400
    assert r.get_json() == {"status": 400, "code": "invalid_parameter",
                            "message": "every field of a form needs a name", "field": "body"}
    assert src.version() == before and _audit(app.config) == []
