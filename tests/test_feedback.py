"""Workers report and confirm; unions see their own queue and resolve; on both databases.

Run with the default settings: the proof-of-work challenge and the rate limits on.
"""

from __future__ import annotations

import base64
import json
import threading
from datetime import timedelta

import pytest
from sqlalchemy import update

from locator.living import accounts, db
from locator.living.models import Case, utcnow
from tests.conftest import DEMO
from tests.staff import PASSWORD, _app, altcha_answer, login

HOSTILE = '<img src=x onerror="alert(1)">回复</script>'


def solved(client) -> str:
    """Solve a challenge of the server with ALTCHA's own solver, as the widget does."""
    return altcha_answer(client.get("/api/v1/challenge").get_json())


@pytest.fixture(scope="module")
def stations():
    import geopandas as gpd

    f = gpd.read_file(DEMO)
    live = f[f["status"] == "open"]
    return {"jinshui": live[live["county_adcode"] == "410105"]["id"].tolist(),
            "erqi": live[live["county_adcode"] == "410103"]["id"].tolist()}


_login = login


@pytest.mark.slow
def test_report_reaches_only_its_union_and_the_reply_reaches_the_worker(staff_cfg, stations):
    app, worker = _app(staff_cfg)
    accounts.add(app.config, "jinshui@union.example", PASSWORD, union="410105", role="editor")
    accounts.add(app.config, "erqi@union.example", PASSWORD, union="410103", role="editor")
    sid = stations["jinshui"][0]
    r = worker.post(f"/api/v1/stations/{sid}/reports",
                    json={"reason": "no_water", "text": "水桶空了", "altcha": solved(worker)})
    assert r.status_code == 201, r.get_json()
    code = r.get_json()["code"]
    again = worker.post(f"/api/v1/stations/{sid}/reports",
                        json={"reason": "no_water", "altcha": solved(worker)})
    assert again.status_code == 201 and again.get_json()["code"] != code

    _, jinshui = _app(staff_cfg)
    jt = _login(jinshui, "jinshui@union.example")
    q = jinshui.get("/api/v1/admin/cases").get_json()
    mine = [c for c in q["cases"] if c["station_id"] == sid]
    assert len(mine) == 1 and mine[0]["reports"] == 2 and mine[0]["reason"] == "no_water"
    assert mine[0]["text"] == "水桶空了"

    _, erqi = _app(staff_cfg)
    et = _login(erqi, "erqi@union.example")
    assert all(c["station_id"] != sid
               for c in erqi.get("/api/v1/admin/cases?scope=all").get_json()["cases"])
    denied = erqi.post(f"/api/v1/admin/cases/{mine[0]['id']}/resolve",
                       json={"outcome": "resolved", "reply": "x"}, headers={"X-CSRFToken": et})
    assert denied.status_code == 403 and denied.get_json()["code"] == "forbidden"

    no_token = jinshui.post(f"/api/v1/admin/cases/{mine[0]['id']}/resolve",
                            json={"outcome": "resolved", "reply": "x"})
    assert no_token.status_code == 403 and no_token.get_json()["code"] == "csrf_failed"
    ok = jinshui.post(f"/api/v1/admin/cases/{mine[0]['id']}/resolve",
                      json={"outcome": "resolved", "reply": HOSTILE},
                      headers={"X-CSRFToken": jt})
    assert ok.status_code == 200 and ok.get_json()["state"] == "resolved"
    twice = jinshui.post(f"/api/v1/admin/cases/{mine[0]['id']}/resolve",
                         json={"outcome": "resolved"}, headers={"X-CSRFToken": jt})
    assert twice.status_code == 409

    hist = jinshui.get(f"/api/v1/admin/stations/{sid}/history").get_json()["entries"]
    assert hist[0]["action"] == "case_resolved" and hist[0]["actor"] == "jinshui@union.example"
    assert hist[0]["before"] == "open" and HOSTILE in hist[0]["after"]
    assert erqi.get(f"/api/v1/admin/stations/{sid}/history").status_code == 403

    t = worker.get(f"/api/v1/reports/{code}").get_json()
    assert t["state"] == "resolved" and t["reply"] == HOSTILE and t["reports"] == 2
    page = worker.get(f"/r/{code.lower()}").get_data(as_text=True)
    assert "已处理" in page and HOSTILE not in page
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;回复&lt;/script&gt;" in page
    assert "Resolved" in worker.get(f"/r/{code}?lang=en").get_data(as_text=True)
    assert worker.get("/r/NOSUCHCODE").status_code == 404


def test_personal_answers_are_never_cached_or_shared(staff_cfg, stations):
    app, client = _app(staff_cfg)
    accounts.add(app.config, "p@union.example", PASSWORD, union="410105", role="editor")
    _login(client, "p@union.example")
    code = client.post(f"/api/v1/stations/{stations['jinshui'][5]}/reports",
                       json={"reason": "dirty", "altcha": solved(client)}).get_json()["code"]
    for path in ("/api/v1/admin/cases", "/api/v1/session", f"/api/v1/reports/{code}",
                 "/api/v1/challenge"):
        r = client.get(path)
        assert r.status_code == 200
        assert r.headers["Cache-Control"] == "no-store", path
        assert "ETag" not in r.headers and "Access-Control-Allow-Origin" not in r.headers, path


def test_queue_needs_a_login(staff_cfg):
    _, client = _app(staff_cfg)
    r = client.get("/api/v1/admin/cases")
    assert r.status_code == 401
    assert r.get_json() == {"status": 401, "code": "unauthorized", "message": "log in first",
                            "field": None}


def test_unsolved_reused_or_honeypot_submissions_are_refused(staff_cfg, stations):
    _, worker = _app(staff_cfg)
    url = f"/api/v1/stations/{stations['jinshui'][1]}/reports"
    r = worker.post(url, json={"reason": "dirty"})
    assert r.status_code == 403 and r.get_json()["field"] == "altcha"
    forged = base64.b64encode(json.dumps({"algorithm": "SHA-256", "challenge": "0" * 64,
                                          "number": 1, "salt": "x", "signature": "y"})
                              .encode()).decode()
    assert worker.post(url, json={"reason": "dirty", "altcha": forged}).status_code == 403
    good = solved(worker)
    assert worker.post(url, json={"reason": "dirty", "altcha": good}).status_code == 201
    reused = worker.post(url, json={"reason": "dirty", "altcha": good})
    assert reused.status_code == 403 and reused.get_json()["code"] == "challenge_failed"
    trap = worker.post(url, json={"reason": "dirty", "website": "http://spam.example",
                                  "altcha": solved(worker)})
    assert trap.status_code == 400


def test_bad_reports(staff_cfg, stations):
    _, worker = _app(staff_cfg)
    sid = stations["jinshui"][2]
    bad = worker.post(f"/api/v1/stations/{sid}/reports", json={"reason": "ghosts"})
    assert bad.status_code == 400 and bad.get_json()["field"] == "reason"
    long = worker.post(f"/api/v1/stations/{sid}/reports",
                       json={"reason": "other", "text": "字" * 501})
    assert long.status_code == 400 and long.get_json()["field"] == "text"
    assert worker.post("/api/v1/stations/nope/reports",
                       json={"reason": "other"}).status_code == 404
    assert worker.post(f"/api/v1/stations/{sid}/reports", data="[]",
                       content_type="application/json").status_code == 400


def test_reports_are_rate_limited_per_client(staff_cfg, stations):
    _, worker = _app(staff_cfg)
    sid = stations["erqi"][0]
    codes = [worker.post(f"/api/v1/stations/{sid}/confirmations",
                         json={"altcha": solved(worker)}).status_code for _ in range(11)]
    assert codes[:10] == [201] * 10 and codes[10] == 429


def test_stale_case_escalates_to_the_city_union(staff_cfg, stations):
    app, worker = _app(staff_cfg)
    accounts.add(app.config, "zz@union.example", PASSWORD, union="410100", role="editor")
    old, fresh = stations["jinshui"][3], stations["jinshui"][4]
    for sid in (old, fresh):
        assert worker.post(f"/api/v1/stations/{sid}/reports",
                           json={"reason": "locked", "altcha": solved(worker)}).status_code == 201
    with db.session(app.config) as s:
        s.execute(update(Case).where(Case.station_id == old)
                  .values(created_at=utcnow() - timedelta(days=8)))
    _, city = _app(staff_cfg)
    _login(city, "zz@union.example")
    mine = {c["station_id"]: c for c in city.get("/api/v1/admin/cases").get_json()["cases"]}
    assert old in mine and mine[old]["escalated"] and mine[old]["responsible"] == "410105"
    assert fresh not in mine
    everything = city.get("/api/v1/admin/cases?scope=all").get_json()["cases"]
    assert {old, fresh} <= {c["station_id"] for c in everything}


def test_concurrent_reports_join_one_case(staff_cfg, stations):
    app, worker = _app(staff_cfg)
    sid = stations["erqi"][1]
    proofs = [solved(worker) for _ in range(8)]
    results: list[int] = []
    codes: list[str] = []

    def send(proof):
        c = app.test_client()
        r = c.post(f"/api/v1/stations/{sid}/reports", json={"reason": "no_toilet",
                                                            "altcha": proof},
                   environ_overrides={"REMOTE_ADDR": f"10.9.0.{len(results) + 1}"})
        results.append(r.status_code)
        codes.append(r.get_json().get("code", ""))

    threads = [threading.Thread(target=send, args=(p,)) for p in proofs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [201] * 8 and len(set(codes)) == 8
    with db.session(app.config) as s:
        rows = s.query(Case).filter(Case.station_id == sid).all()
        assert len(rows) == 1 and rows[0].reports == 8


def test_suggestions_land_with_the_county_union(staff_cfg):
    app, worker = _app(staff_cfg)
    accounts.add(app.config, "js2@union.example", PASSWORD, union="410105", role="editor")
    outside = worker.post("/api/v1/suggestions", json={"lat": 39.9, "lon": 116.4, "name": "x",
                                                       "altcha": solved(worker)})
    assert outside.status_code == 404 and outside.get_json()["field"] == "lat"
    r = worker.post("/api/v1/suggestions",
                    json={"lat": 34.7986, "lon": 113.6860, "name": "花园路环卫驿站",
                          "kind": "rest_station", "amenities": ["drinking_water", "toilet"],
                          "altcha": solved(worker)})
    assert r.status_code == 201, r.get_json()
    _, officer = _app(staff_cfg)
    _login(officer, "js2@union.example")
    got = [c for c in officer.get("/api/v1/admin/cases").get_json()["cases"]
           if c["kind"] == "suggestion"]
    assert len(got) == 1 and got[0]["station_name"] == "花园路环卫驿站"
    assert got[0]["amenities"] == "drinking_water;toilet"
