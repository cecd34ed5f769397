"""The write path with PostgreSQL stopped: 503 fast, the map keeps serving, then recovery.

The session's real cluster is stopped with ``pg_ctl`` in the middle of the test
and started again; nothing is mocked.
"""

from __future__ import annotations

import time

import pytest

from locator.living import accounts
from tests.staff import PASSWORD, _app, _token
from tests.test_feedback import solved

pytestmark = pytest.mark.slow
LIMIT_S = 5.0


def _timed(call, *args, **kw):
    started = time.monotonic()
    r = call(*args, **kw)
    return r, time.monotonic() - started


def _is_503_json(r, took) -> None:
    assert took < LIMIT_S, took
    assert r.status_code == 503, r.get_data(as_text=True)[:300]
    body = r.get_json()
    assert set(body) == {"status", "code", "message", "field"}
    assert (body["status"], body["code"]) == (503, "storage_unavailable")


def _is_503_page(r, took) -> None:
    assert took < LIMIT_S, took
    assert r.status_code == 503 and r.mimetype == "text/html"
    page = r.get_data(as_text=True)
    # Chinese first, then English; no traceback or driver message.
    assert page.index("服务暂时不可用") < page.index("Temporarily unavailable")
    assert "psycopg" not in page and "Traceback" not in page


@pytest.fixture
def staff_pg(pg_cluster, tmp_path):
    if pg_cluster is None:
        pytest.skip("PostgreSQL is not installed; `make test` installs it")
    from tests.backends import fresh_database

    url = fresh_database(pg_cluster, scheme="postgresql")
    return pg_cluster, {"DATA_DIR": str(tmp_path / "var"), "DATABASE_URL": url,
                        "DATA_RELOAD_SECONDS": 0, "DATABASE_TIMEOUT": 2.0}


def test_write_path_answers_503_while_the_database_is_down_and_recovers(staff_pg):
    pg, cfg = staff_pg
    app, officer = _app(cfg)
    _, worker = _app(cfg)
    accounts.add(app.config, "down@union.example", PASSWORD, union="410105", role="editor")
    token = _token(officer)
    r = officer.post("/login", json={"email": "down@union.example", "password": PASSWORD},
                     headers={"X-CSRFToken": token})
    assert r.status_code == 200
    csrf = r.get_json()["csrf_token"]
    sid = "demo-rs-410105-0001"
    assert worker.get(f"/api/v1/stations/{sid}").status_code == 200
    answers = [solved(worker) for _ in range(3)]  # challenges need no database

    pg.stop()
    try:
        _is_503_json(*_timed(worker.post, f"/api/v1/stations/{sid}/reports",
                             json={"reason": "no_water", "altcha": answers[0]}))
        _is_503_json(*_timed(worker.post, f"/api/v1/stations/{sid}/confirmations",
                             json={"altcha": answers[1]}))
        _is_503_json(*_timed(worker.post, "/api/v1/suggestions",
                             json={"lat": 34.7986, "lon": 113.686, "name": "新驿站",
                                   "altcha": answers[2]}))
        _is_503_json(*_timed(worker.get, "/api/v1/reports/ABCDEFGH"))
        _is_503_json(*_timed(officer.get, "/api/v1/admin/cases"))
        _is_503_json(*_timed(officer.post, "/api/v1/admin/cases/1/resolve",
                             json={"outcome": "resolved"}, headers={"X-CSRFToken": csrf}))
        _is_503_json(*_timed(officer.get, f"/api/v1/admin/stations/{sid}/history"))
        _is_503_json(*_timed(worker.post, "/login",
                             json={"email": "down@union.example", "password": PASSWORD},
                             headers={"X-CSRFToken": _token(worker)}))
        html = {"Accept": "text/html,application/xhtml+xml"}
        _is_503_page(*_timed(officer.get, "/admin", headers=html))
        _is_503_page(*_timed(worker.get, "/r/ABCDEFGH", headers=html))
        _is_503_page(*_timed(worker.post, "/login", headers=html,
                             data={"email": "down@union.example", "password": PASSWORD,
                                   "csrf_token": _token(worker)}))
        # The loaded dataset keeps answering the public, read-only API.
        r, took = _timed(worker.get, "/api/v1/nearest?lat=34.75&lon=113.65&k=1")
        assert r.status_code == 200 and took < LIMIT_S
    finally:
        pg.start()

    # Back up: the same apps (no restart) work again.
    r = worker.post(f"/api/v1/stations/{sid}/reports",
                    json={"reason": "no_water", "altcha": solved(worker)})
    assert r.status_code == 201, r.get_json()
    code = r.get_json()["code"]
    assert worker.get(f"/api/v1/reports/{code}").get_json()["state"] == "open"
    cases = officer.get("/api/v1/admin/cases").get_json()["cases"]
    assert [c["station_id"] for c in cases] == [sid]
    assert officer.get("/admin", headers={"Accept": "text/html"}).status_code == 200
