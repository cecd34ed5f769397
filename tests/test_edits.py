"""Union staff edit stations: If-Match, subtrees, atomicity, publishing; on both backends.

``staff_cfg`` runs each test on SQLite with GeoPackage versions and on PostgreSQL
with PostGIS versions (one ``DATABASE_URL`` holds both).
"""

from __future__ import annotations

import threading
import time
from datetime import date, timedelta

import geopandas as gpd
import pytest

from locator import create_app
from locator.living import accounts
from locator.storage import base
from tests.conftest import DEMO
from tests.staff import PASSWORD, _app, _Https, login

SOON = (date.today() + timedelta(days=10)).isoformat()


@pytest.fixture(scope="module")
def demo():
    f = gpd.read_file(DEMO)
    live = f[f["status"] == "open"]
    return {"jinshui": live[live["county_adcode"] == "410105"]["id"].tolist(),
            "erqi": live[live["county_adcode"] == "410103"]["id"].tolist(),
            "frame": f}


_login = login


def _officer(cfg, email, union):
    accounts.add(cfg, email, PASSWORD, union=union, role="editor")


def _session(cfg, email):
    app, client = _app(cfg)
    return app, client, _login(client, email)


@pytest.mark.slow
def test_an_edit_needs_if_match_and_a_stale_one_is_refused(staff_cfg, demo):
    app, c, tok = _session_with(staff_cfg, "j@u.example", "410105")
    sid = demo["jinshui"][0]
    got = c.get(f"/api/v1/admin/stations/{sid}")
    assert got.status_code == 200
    tag = got.headers["ETag"]
    h = {"X-CSRFToken": tok}
    r = c.patch(f"/api/v1/admin/stations/{sid}", json={"phone": "0371-1234567"}, headers=h)
    body = r.get_json()
    assert r.status_code == 428 and body["field"] == "If-Match"
    assert body["code"] == "precondition_required" and set(body) >= {"status", "message"}
    ok = c.patch(f"/api/v1/admin/stations/{sid}", json={"phone": "0371-1234567"},
                 headers={**h, "If-Match": tag})
    assert ok.status_code == 200, ok.get_json()
    assert ok.get_json()["station"]["phone"] == "0371-1234567"
    assert ok.headers["ETag"] != tag
    stale = c.patch(f"/api/v1/admin/stations/{sid}", json={"phone": "0371-7654321"},
                    headers={**h, "If-Match": tag})
    assert stale.status_code == 409
    body = stale.get_json()
    assert body["code"] == "edit_conflict" and body["field"] == "If-Match"
    # Both versions: the one saved meanwhile and the change this officer sent.
    assert body["current"]["phone"] == "0371-1234567" and body["etag"] == ok.headers["ETag"]
    assert body["submitted"] == {"phone": "0371-7654321"}
    assert body["submitted_etag"] == tag
    no_csrf = c.patch(f"/api/v1/admin/stations/{sid}", json={"phone": "1"},
                      headers={"If-Match": ok.headers["ETag"]})
    assert no_csrf.status_code == 403 and no_csrf.get_json()["code"] == "csrf_failed"
    # The live version holds the edit, its audit entry shows in the history.
    live = base.open_source(app.config).frame()
    row = live[live["id"] == sid].iloc[0]
    assert row["phone"] == "0371-1234567" and row["verified_at"] == date.today().isoformat()
    hist = c.get(f"/api/v1/admin/stations/{sid}/history").get_json()["entries"]
    assert hist[0]["action"] == "station_edit" and "0371-1234567" in hist[0]["after"]
    before_edit = str(demo["frame"].set_index("id").loc[sid, "phone"])
    assert before_edit in hist[0]["before"]


def _session_with(cfg, email, union):
    app, client = _app(cfg)
    _officer(app.config, email, union)
    return app, client, _login(client, email)


@pytest.mark.slow
def test_two_concurrent_edits_of_one_revision_one_wins_one_gets_409(staff_cfg, demo):
    app, a, ta = _session_with(staff_cfg, "a@u.example", "410105")
    _officer(app.config, "b@u.example", "410100")
    _, b, tb = _session(staff_cfg, "b@u.example")
    sid = demo["jinshui"][1]
    tag = a.get(f"/api/v1/admin/stations/{sid}").headers["ETag"]
    assert b.get(f"/api/v1/admin/stations/{sid}").headers["ETag"] == tag
    out: dict[str, object] = {}
    go = threading.Barrier(2)

    def run(name, client, tok, hours):
        go.wait()
        out[name] = client.patch(f"/api/v1/admin/stations/{sid}",
                                 json={"opening_hours": hours},
                                 headers={"X-CSRFToken": tok, "If-Match": tag})

    ts = [threading.Thread(target=run, args=("a", a, ta, "Mo-Fr 08:00-18:00")),
          threading.Thread(target=run, args=("b", b, tb, "Mo-Su 06:00-22:00"))]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    codes = sorted(r.status_code for r in out.values())
    assert codes == [200, 409], [r.get_json() for r in out.values()]
    winner = next(r for r in out.values() if r.status_code == 200).get_json()
    loser = next(r for r in out.values() if r.status_code == 409).get_json()
    assert loser["code"] == "edit_conflict"
    assert loser["current"]["opening_hours"] == winner["station"]["opening_hours"]
    assert loser["submitted"]["opening_hours"] != winner["station"]["opening_hours"]
    live = base.open_source(app.config).frame()
    assert live.set_index("id").loc[sid, "opening_hours"] == \
        winner["station"]["opening_hours"]


def test_outside_ones_subtree_is_403_and_moving_out_of_it_too(staff_cfg, demo):
    app, c, tok = _session_with(staff_cfg, "erqi@u.example", "410103")
    h = {"X-CSRFToken": tok, "If-Match": "*"}
    other = demo["jinshui"][2]
    assert c.get(f"/api/v1/admin/stations/{other}").status_code == 403
    r = c.patch(f"/api/v1/admin/stations/{other}", json={"phone": "0371-1"}, headers=h)
    assert r.status_code == 403 and r.get_json()["code"] == "forbidden"
    mine = demo["erqi"][0]
    # 金水区's government seat area: a point inside Jinshui, outside 二七区.
    moved = c.patch(f"/api/v1/admin/stations/{mine}",
                    json={"lon": 113.686, "lat": 34.776}, headers=h)
    assert moved.status_code == 403
    assert base.open_source(app.config).version() is None  # nothing was published


@pytest.mark.slow
def test_a_failed_edit_changes_nothing(staff_cfg, demo):
    app, c, tok = _session_with(staff_cfg, "j2@u.example", "410105")
    sid = demo["jinshui"][3]
    tag = c.get(f"/api/v1/admin/stations/{sid}").headers["ETag"]
    h = {"X-CSRFToken": tok, "If-Match": tag}
    for body, field in (({"status": "temporarily_closed"}, "reopens_on"),
                        ({"status": "closed"}, "closed_reason"),
                        ({"amenities": ["drinking_water", "caviar"]}, "amenities"),
                        ({"opening_hours": "whenever"}, "opening_hours"),
                        ({"phone": "0371", "name": "x"}, "name"),
                        ({"lon": 116.4, "lat": 39.9}, "lat")):
        r = c.patch(f"/api/v1/admin/stations/{sid}", json=body, headers=h)
        assert r.status_code == 400 and r.get_json()["field"] == field, r.get_json()
    assert base.open_source(app.config).version() is None
    assert c.get(f"/api/v1/admin/stations/{sid}").headers["ETag"] == tag
    assert c.get(f"/api/v1/admin/stations/{sid}/history").get_json()["entries"] == []


@pytest.mark.slow
def test_temporary_closure_reaches_a_second_instance_with_its_chip(staff_cfg, demo):
    cfg2 = {**staff_cfg, "DATA_RELOAD_SECONDS": 0.2}
    other = _Https(create_app(cfg2).test_client())
    _, c, tok = _session_with(staff_cfg, "j3@u.example", "410105")
    sid = demo["jinshui"][4]
    tag = c.get(f"/api/v1/admin/stations/{sid}").headers["ETag"]
    r = c.patch(f"/api/v1/admin/stations/{sid}",
                json={"status": "temporarily_closed", "reopens_on": SOON},
                headers={"X-CSRFToken": tok, "If-Match": tag})
    assert r.status_code == 200, r.get_json()
    deadline = time.monotonic() + 10
    while True:
        p = other.get(f"/api/v1/stations/{sid}").get_json()["properties"]
        if p["status"] == "temporarily_closed" or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert p["status"] == "temporarily_closed" and p["reopens_on"] == SOON
    assert p["last_verified"] == date.today().isoformat()
    reopened = c.patch(f"/api/v1/admin/stations/{sid}", json={"status": "open"},
                       headers={"X-CSRFToken": tok, "If-Match": r.headers["ETag"]})
    assert reopened.status_code == 200 and reopened.get_json()["station"]["reopens_on"] is None


@pytest.mark.slow
def test_merge_closes_the_duplicate_and_conflicts_are_409(staff_cfg, demo):
    app, c, tok = _session_with(staff_cfg, "j4@u.example", "410105")
    dup, keep = demo["jinshui"][5], demo["jinshui"][6]
    h = {"X-CSRFToken": tok, "If-Match": "*"}
    same = c.patch(f"/api/v1/admin/stations/{dup}", json={"merge_into": dup}, headers=h)
    assert same.status_code == 409 and same.get_json()["code"] == "merge_into_self"
    r = c.patch(f"/api/v1/admin/stations/{dup}", json={"merge_into": keep}, headers=h)
    assert r.status_code == 200, r.get_json()
    f = base.open_source(app.config).frame().set_index("id")
    assert f.loc[dup, "status"] == "closed" and keep in f.loc[dup, "closed_reason"]
    want = set(str(demo["frame"].set_index("id").loc[dup, "amenities"]).split(";")) | \
        set(str(demo["frame"].set_index("id").loc[keep, "amenities"]).split(";"))
    assert set(f.loc[keep, "amenities"].split(";")) == want - {""}
    again = c.patch(f"/api/v1/admin/stations/{dup}", json={"merge_into": keep}, headers=h)
    assert again.status_code == 409 and again.get_json()["code"] == "station_closed"
    tc = c.patch(f"/api/v1/admin/stations/{dup}",
                 json={"status": "temporarily_closed", "reopens_on": SOON}, headers=h)
    assert tc.status_code == 409 and tc.get_json()["code"] == "station_closed"


@pytest.mark.slow
def test_an_accepted_suggestion_becomes_a_station(staff_cfg):
    cfg = {**staff_cfg, "REPORT_CHALLENGE": False}
    _, c, tok = _session_with(cfg, "j5@u.example", "410105")
    r = c.post("/api/v1/suggestions", json={"lat": 34.776, "lon": 113.686, "name": "新驿站",
                                            "kind": "rest_station",
                                            "amenities": ["drinking_water"]})
    assert r.status_code == 201, r.get_json()
    code = r.get_json()["code"]
    case = next(x for x in c.get("/api/v1/admin/cases").get_json()["cases"]
                if x["kind"] == "suggestion")
    ok = c.post(f"/api/v1/admin/cases/{case['id']}/accept", json={"reply": "已采纳"},
                headers={"X-CSRFToken": tok})
    assert ok.status_code == 200, ok.get_json()
    sid = ok.get_json()["station"]["id"]
    p = c.get(f"/api/v1/stations/{sid}").get_json()["properties"]
    assert p["name"] == "新驿站" and p["county_adcode"] == "410105"
    assert c.get(f"/api/v1/reports/{code}").get_json()["state"] == "resolved"
    twice = c.post(f"/api/v1/admin/cases/{case['id']}/accept", json={},
                   headers={"X-CSRFToken": tok})
    assert twice.status_code == 409 and twice.get_json()["code"] == "case_closed"


def test_an_open_report_shows_on_the_public_answers(staff_cfg, demo):
    cfg = {**staff_cfg, "REPORT_CHALLENGE": False}
    _, worker = _app(cfg)
    sid = demo["jinshui"][7]
    assert worker.get(f"/api/v1/stations/{sid}").get_json()["properties"]["reported"] == []
    r = worker.post(f"/api/v1/stations/{sid}/reports", json={"reason": "no_water"})
    assert r.status_code == 201
    p = worker.get(f"/api/v1/stations/{sid}").get_json()["properties"]
    assert p["reported"] == ["no_water"]
    row = demo["frame"].set_index("id").loc[sid]
    near = worker.get(f"/api/v1/nearest?lon={row.geometry.x}&lat={row.geometry.y}&k=1")
    assert near.get_json()["features"][0]["properties"]["reported"] == ["no_water"]
    ok = worker.post(f"/api/v1/stations/{sid}/confirmations", json={})
    assert ok.status_code == 201
    p = worker.get(f"/api/v1/stations/{sid}").get_json()["properties"]
    assert p["last_verified"] == date.today().isoformat()
