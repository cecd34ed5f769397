"""``reported`` and ``last_verified`` in every public answer that lists stations.

The expected values are computed here from the database's own tables (open report
cases, confirmations) and the shipped file's ``verified_at``, read with plain SQL and
GeoPandas, and compared with the map's markers, the OGC items and the three exports,
each read back the way a consumer reads it: JSON, Python's csv module, sqlite3 on the
GeoPackage. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import csv
import io
import sqlite3
from datetime import datetime

import geopandas as gpd
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from locator.cli import main as cli
from locator.living import db
from tests.conftest import DEMO
from tests.staff import _app


@pytest.fixture
def flagged(staff_cfg):
    """An app with open and resolved reports, and fresh and old confirmations."""
    cfg = {**staff_cfg, "REPORT_CHALLENGE": False, "REPORT_RATE_LIMIT": "100 per minute"}
    _, client = _app(cfg)
    f = gpd.read_file(DEMO)
    live = f[(f["status"] == "open") & (f["county_adcode"] == "410105")].iloc[:4]
    a, b, c, d = live["id"].tolist()
    x0, y0, x1, y1 = live.total_bounds
    bbox = f"{x0 - 0.01:.5f},{y0 - 0.01:.5f},{x1 + 0.01:.5f},{y1 + 0.01:.5f}"
    for sid, reason in ((a, "no_water"), (a, "locked"), (b, "dirty"), (c, "other")):
        r = client.post(f"/api/v1/stations/{sid}/reports", json={"reason": reason})
        assert r.status_code == 201, r.get_json()
    assert client.post(f"/api/v1/stations/{d}/confirmations", json={}).status_code in (200, 201)
    eng = sa.create_engine(db.database_url(cfg))
    with eng.begin() as conn:
        # c's report is dealt with; b gains an old confirmation, older than its verified_at.
        conn.execute(sa.text("UPDATE cases SET state = 'resolved' WHERE station_id = :s"),
                     {"s": c})
        conn.execute(sa.text("INSERT INTO confirmations (station_id, county_adcode, at) "
                             "VALUES (:s, '410105', :at)"),
                     {"s": b, "at": datetime(2020, 1, 1)})
    eng.dispose()
    return client, cfg, bbox, (a, b, c, d)


def expected(cfg) -> dict[str, tuple[str, str | None]]:
    """Every station's (reported, last_verified), straight from the tables and the file."""
    eng = sa.create_engine(db.database_url(cfg))
    with eng.connect() as conn:
        open_rows = conn.execute(sa.text(
            "SELECT station_id, reason FROM cases WHERE kind = 'report' AND state = 'open'"))
        reasons: dict[str, list[str]] = {}
        for sid, reason in open_rows:
            reasons.setdefault(sid, []).append(reason)
        confirmed = {sid: str(at)[:10] for sid, at in conn.execute(sa.text(
            "SELECT station_id, max(at) FROM confirmations GROUP BY station_id"))}
    eng.dispose()
    out = {}
    for sid, verified in gpd.read_file(DEMO)[["id", "verified_at"]].itertuples(index=False):
        dates = [x for x in (verified, confirmed.get(sid)) if isinstance(x, str) and x]
        out[sid] = (";".join(sorted(reasons.get(sid, []))), max(dates) if dates else None)
    return out


def _pairs(features) -> dict[str, tuple[str, str | None]]:
    got = {}
    for feat in features:
        p = feat["properties"]
        rep = p["reported"]
        got[str(p["id"])] = (";".join(rep) if isinstance(rep, list) else rep or "",
                             p["last_verified"])
    return got


def test_markers_and_ogc_items_carry_the_flags(flagged):
    client, cfg, bbox, (a, b, c, d) = flagged
    want = expected(cfg)
    assert want[a][0] == "locked;no_water" and want[b][0] == "dirty" and want[c][0] == ""
    assert want[d][1] == datetime.now().date().isoformat() or want[d][1] >= "2026"

    markers = client.get(f"/api/v1/stations?bbox={bbox}&limit=2000").get_json()
    assert not markers["clustered"] and markers["numberReturned"] > 50
    got = _pairs(markers["features"])
    assert {a, b, c, d} <= set(got)
    assert got == {sid: want[sid] for sid in got}
    assert markers["features"][0]["properties"]["reported"] is not None  # a list, [] for none

    items = client.get(f"/ogc/collections/stations/items?bbox={bbox}&limit=10000").get_json()
    # For GIS tools, as amenities: one ;-joined text.
    assert all(isinstance(f["properties"]["reported"], str) for f in items["features"])
    got = _pairs(items["features"])
    assert {a, b, c, d} <= set(got) and got == {sid: want[sid] for sid in got}
    one = client.get(f"/ogc/collections/stations/items/{a}").get_json()
    assert _pairs([one]) == {a: want[a]}


def test_the_nearest_list_carries_the_flags(flagged):
    client, cfg, _, ids = flagged
    want = expected(cfg)
    got = {}
    for sid in ids:
        lon, lat = client.get(f"/api/v1/stations/{sid}").get_json()["geometry"]["coordinates"]
        near = client.get(f"/api/v1/nearest?lat={lat}&lon={lon}&k=20").get_json()
        assert all(isinstance(f["properties"]["reported"], list) for f in near["features"])
        got.update(_pairs(near["features"]))
    assert set(ids) <= set(got)
    assert got == {sid: want[sid] for sid in got}
    # The list and the card of one station say the same.
    card = client.get(f"/api/v1/stations/{ids[0]}").get_json()
    assert _pairs([card]) == {ids[0]: got[ids[0]]}


def test_the_exports_carry_the_flags(flagged, monkeypatch, tmp_path):
    client, cfg, _, _ = flagged
    want = expected(cfg)

    body = client.get("/api/v1/stations.csv").get_data().decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(body)))
    assert len(rows) == len(want)
    assert {r["id"]: (r["reported"], r["last_verified"] or None) for r in rows} == want

    fc = client.get("/api/v1/stations.geojson").get_json()
    assert _pairs(fc["features"]) == want

    monkeypatch.setenv("LOCATOR_DATA_DIR", cfg["DATA_DIR"])
    monkeypatch.setenv("LOCATOR_DATABASE_URL", cfg["DATABASE_URL"])
    out = tmp_path / "stations.gpkg"
    r = CliRunner().invoke(cli, ["export", "--out", str(out)])
    assert r.exit_code == 0, r.output
    with sqlite3.connect(out) as conn:
        read = conn.execute("SELECT id, reported, last_verified FROM stations").fetchall()
    assert {sid: (rep or "", last) for sid, rep, last in read} == want


def test_a_new_report_changes_the_validators_and_the_download(flagged):
    client, _, bbox, (*_, d) = flagged
    path = f"/api/v1/stations?bbox={bbox}&limit=2000"
    before = client.get(path).headers["ETag"]
    csv_before = client.get("/api/v1/stations.csv").headers["ETag"]
    assert client.get(path, headers={"If-None-Match": before}).status_code == 304
    assert client.post(f"/api/v1/stations/{d}/reports",
                       json={"reason": "no_toilet"}).status_code == 201
    fresh = client.get(path, headers={"If-None-Match": before})
    assert fresh.status_code == 200 and fresh.headers["ETag"] != before
    assert _pairs(fresh.get_json()["features"])[d][0] == "no_toilet"
    csv_now = client.get("/api/v1/stations.csv", headers={"If-None-Match": csv_before})
    assert csv_now.status_code == 200
    rows = {r["id"]: r for r in csv.DictReader(io.StringIO(csv_now.get_data().decode("utf-8-sig")))}
    assert rows[d]["reported"] == "no_toilet"


def test_the_ogc_schema_describes_every_item_property(flagged):
    """Each item validates against the collection's schema, which names every property."""
    import jsonschema

    client, _, bbox, _ = flagged
    coll = client.get("/ogc/collections/stations").get_json()
    href = next(lk["href"] for lk in coll["links"] if lk["rel"].endswith("/schema"))
    r = client.get(href.split("localhost", 1)[1])
    assert r.status_code == 200 and r.mimetype == "application/schema+json"
    doc = r.get_json()
    items = client.get(f"/ogc/collections/stations/items?bbox={bbox}&limit=10000").get_json()
    validator = jsonschema.Draft202012Validator(doc)
    for feat in items["features"]:
        assert set(feat["properties"]) <= set(doc["properties"]), feat["properties"].keys()
        validator.validate(feat["properties"])
    assert {"reported", "last_verified"} <= set(items["features"][0]["properties"])
    q = client.get("/ogc/collections/stations/queryables").get_json()
    # Each queryable's parameter really filters: asking for a value gives only that value.
    assert set(q["properties"]) <= set(doc["properties"])
    only = client.get("/ogc/collections/stations/items?status=closed&limit=50").get_json()
    assert only["features"] and {f["properties"]["status"] for f in only["features"]} == \
        {"closed"}
    assert client.get("/ogc/collections/nope/schema").status_code == 404


@pytest.mark.parametrize("with_flags", [False, True])
def test_a_few_stations_get_what_each_would_get_alone(with_flags):
    from locator.living import flags

    ids = ["a", "b", "c", "d"]
    verified = ["2026-05-01", None, "2026-07-02T10:00:00", ""]
    got = (flags.Flags({"b": ["no_water", "closed"]}, {"a": "2026-09-01", "d": "2026-01-03"})
           if with_flags else flags.Flags())
    few = flags.of_few(ids, verified, got)
    # Each station by hand: its open reasons sorted, its newest date of the two.
    want_reported = [[], ["closed", "no_water"], [], []] if with_flags else [[]] * 4
    want_verified = (["2026-09-01", None, "2026-07-02", "2026-01-03"] if with_flags
                     else ["2026-05-01", None, "2026-07-02", None])
    assert few == {"reported": want_reported, "last_verified": want_verified}
    with pytest.raises(ValueError, match="length"):
        flags.of_few(ids, verified[:2], got)
