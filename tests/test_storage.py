"""The station sources (files and PostGIS): change stamps, validation before a
version goes live, killed imports, and faults of the disk and the database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point

from locator import create_app
from locator.cli.main import main
from locator.stations import dataset
from locator.storage import files
from tests import stationfiles as sf
from tests.conftest import ROOT

JAN = datetime(2026, 1, 1, tzinfo=UTC)
JUN = datetime(2026, 6, 1, tzinfo=UTC)


def _stations(n: int) -> gpd.GeoDataFrame:
    rows = [{"id": f"s{i}", "kind": "rest_station", "name": f"驿站{i}", "status": "open",
             "opening_hours": "Mo-Su 08:00-18:00", "verified_at": "2025-12-01",
             "source": "t", "amenities": "drinking_water"} for i in range(n)]
    geom = [Point(113.6 + i * 0.01, 34.7 + i * 0.01) for i in range(n)]
    return dataset.normalise(gpd.GeoDataFrame(rows, geometry=geom, crs="EPSG:4326"))


def _app(backend, **extra):
    return backend.app(DATA_PATH=str(backend.root / "none"), RATE_LIMIT_ENABLED=False, **extra)


def test_modified_at_is_stamped_only_on_changed_rows(backend):
    src = backend.source
    first = _stations(6)
    src.publish(first, meta={}, now=JAN)
    second = first.copy()
    second.loc[1, "opening_hours"] = "Mo-Fr 09:00-17:00"  # an edit of the hours only
    second.loc[2, "geometry"] = Point(113.9, 34.9)  # a move only
    second = second.drop(index=5)  # a removal leaves no stamp behind
    extra = _stations(8).iloc[[7]]
    second = pd.concat([second, extra])  # a new station
    src.publish(gpd.GeoDataFrame(second, crs="EPSG:4326"), meta={}, now=JUN)
    got = src.frame().set_index("id")["modified_at"]
    want = {"s0": JAN, "s1": JUN, "s2": JUN, "s3": JAN, "s4": JAN, "s7": JUN}
    assert {k: v.to_pydatetime() for k, v in got.items()} == want
    # The dataset the server loads carries the same stamps, row for row.
    ds = src.load()
    stamps = dict(zip(ds.frame["id"], pd.to_datetime(ds.modified_at).tz_localize("UTC"),
                      strict=True))
    assert stamps == {k: pd.Timestamp(v) for k, v in want.items()}


def _cells(col: pd.Series) -> dict:
    return {k: None if pd.isna(v) else v for k, v in col.items()}


def test_text_survives_a_publish_exactly_and_stamps_may_mix_fractions(backend):
    src = backend.source
    first = _stations(4)
    first["address"] = pd.Series(["", None, 'say "hi", then\nnext line', "郑州市,金水区"],
                                 dtype=object).to_numpy()
    first.loc[3, "phone"] = "0371-6000,0000"
    first.loc[1, "name"] = "\\N"  # the text COPY writes for NULL, as a station's name
    src.publish(first, meta={}, now=JAN)  # a whole second: no fraction
    second = first.copy()
    second.loc[0, "opening_hours"] = "24/7"
    src.publish(second, meta={}, now=datetime(2026, 6, 1, 8, 30, 1, 250_000, tzinfo=UTC))
    want = dataset.normalise(second).set_index("id")
    for got in (src.frame(), src.load().frame):
        got = got.set_index("id")
        for col in ("address", "phone", "name", "opening_hours"):
            assert _cells(got[col]) == _cells(want[col]), col
        assert got.loc["s2", "address"] == 'say "hi", then\nnext line'
        assert got.loc["s3", "address"] == "郑州市,金水区"
        assert got.loc["s3", "phone"] == "0371-6000,0000"
        assert got.loc["s0", "opening_hours"] == "24/7"
        assert got.loc["s1", "name"] == "\\N"
        pts = gpd.GeoSeries(got.geometry).sort_index()
        assert np.allclose(pts.x.to_numpy(), [113.6 + i * 0.01 for i in range(4)], atol=1e-9)
    stamps = src.frame().set_index("id")["modified_at"]
    assert stamps["s0"].microsecond == 250_000 and stamps["s1"] == pd.Timestamp(JAN)


def test_modified_since_filters_on_content_changes_not_verified_at(backend):
    src = backend.source
    first = _stations(5)
    src.publish(first, meta={}, now=JAN)
    second = first.copy()
    second.loc[3, "opening_hours"] = "Mo-Fr 09:00-17:00"  # verified_at left as it was
    src.publish(second, meta={}, now=JUN)
    client = _app(backend).test_client()
    r = client.get("/ogc/collections/stations/items?modified_since=2026-03-01&f=json")
    assert r.status_code == 200
    assert [f["id"] for f in r.get_json()["features"]] == ["s3"]
    r = client.get("/ogc/collections/stations/items?modified_since=2025-12-31&f=json")
    assert sorted(f["id"] for f in r.get_json()["features"]) == [f"s{i}" for i in range(5)]


def _break_live(backend, pg_cluster) -> None:
    live = backend.current()
    if backend.name == "files":
        with (backend.root / "versions" / f"{live}.gpkg").open("r+b") as fh:
            fh.truncate(4096)
    else:  # rows lost behind the store's back: the count no longer matches
        dbname = backend.url.rsplit("/", 1)[1]
        pg_cluster.psql(f"DELETE FROM stations WHERE version = '{live}' AND id <> 's0'",
                        db=dbname)


def test_unreadable_live_version_starts_degraded_on_the_newest_good_one(
        backend, request, runner):
    pg = request.getfixturevalue("pg_cluster") if backend.name == "postgis" else None
    src = backend.source
    good = src.publish(_stations(3), meta={})
    broken = src.publish(_stations(4), meta={})
    _break_live(backend, pg)
    app = _app(backend)
    body = app.test_client().get("/api/v1/health").get_json()
    assert body["status"] == "degraded"
    assert body["live_version"] == broken and body["served_version"] == good
    assert body["stations"] == 3
    # The commands start on the good version too instead of crashing.
    r = runner.invoke(main, ["nearest", "--lat", "34.7", "--lon", "113.6", "--k", "1",
                             "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["features"][0]["id"] == "s0"
    # Rolling back to the good version clears the warning on the next start.
    assert runner.invoke(main, ["rollback"]).exit_code == 0
    assert _app(backend).test_client().get("/api/v1/health").get_json()["status"] == "ok"


def _point(backend, pg_cluster, name: str) -> None:
    """Move the live pointer behind the store's back (as a hand edit or a bug would)."""
    if backend.name == "files":
        files.DataDir(backend.root).switch(name)
    else:
        pg_cluster.psql(f"UPDATE live_version SET name = '{name}'; "
                        f"NOTIFY locator_version, '{name}'", db=backend.url.rsplit("/", 1)[1])


def test_reload_refuses_a_broken_version_and_health_says_so(backend, request):
    pg = request.getfixturevalue("pg_cluster") if backend.name == "postgis" else None
    src = backend.source
    good = src.publish(_stations(3), meta={})
    broken = src.publish(_stations(4), meta={})
    _break_live(backend, pg)
    _point(backend, pg, good)
    app = _app(backend, DATA_RELOAD_SECONDS=0.01)
    client = app.test_client()
    assert client.get("/api/v1/health").get_json()["status"] == "ok"
    _point(backend, pg, broken)
    time.sleep(0.05)
    client.get("/api/v1/health")
    app.extensions["locator.watcher"].wait()
    body = client.get("/api/v1/health").get_json()
    assert body["stations"] == 3
    assert body["status"] == "degraded"
    assert (body["live_version"], body["served_version"]) == (broken, good)


_KILL_AFTER_RENAME = """
import os, signal, sys
from locator.storage import files
real = files._write_atomic
def dying(path, data):
    if path.suffix == ".json":  # the .gpkg is already renamed into versions/
        os.kill(os.getpid(), signal.SIGKILL)
    return real(path, data)
files._write_atomic = dying
from locator.cli.main import main
sys.argv = ["locator", "import", *sys.argv[1:]]
main()
"""


@pytest.mark.slow
def test_a_killed_import_can_never_become_live(tmp_path, runner, monkeypatch):
    root = tmp_path / "data"
    monkeypatch.setenv("LOCATOR_DATA_DIR", str(root))
    monkeypatch.setenv("LOCATOR_DATABASE_URL", "")
    real = sf.real_stations()
    for n in (10, 20):
        path = sf.csv_bd09_gbk(real.head(n), tmp_path / f"{n}.csv")
        assert runner.invoke(main, ["import", str(path), "--crs", "bd09", "--source",
                                    "zz"]).exit_code == 0
    dd = files.DataDir(root)
    names = [v.name for v in dd.versions()]
    full = sf.csv_bd09_gbk(real, tmp_path / "all.csv")
    env = {**os.environ, "LOCATOR_DATA_DIR": str(root)}
    proc = subprocess.run([sys.executable, "-c", _KILL_AFTER_RENAME, str(full), "--crs",
                           "bd09", "--source", "zz"], cwd=ROOT, env=env, capture_output=True,
                          timeout=120, check=False)
    assert proc.returncode == -9, proc.stderr.decode()
    orphans = [p.stem for p in (root / "versions").glob("*.gpkg") if p.stem not in names]
    assert len(orphans) == 1  # the killed import's file sits in versions/
    assert dd.current() == names[1]
    out = runner.invoke(main, ["datasets"]).output
    assert orphans[0] not in out and all(n in out for n in names)
    r = runner.invoke(main, ["rollback", orphans[0]])
    assert r.exit_code == 2 and json.loads(r.stderr)["code"] == "not_found"
    r = runner.invoke(main, ["rollback"])
    assert r.exit_code == 0 and dd.current() == names[0]
    assert len(files.read_frame(dd.live_path("x"))) == 10


@pytest.fixture
def small_mount(tmp_path):
    where = tmp_path / "mnt"
    where.mkdir()
    ok = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(where)],
                        capture_output=True, check=False).returncode == 0
    if not ok:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        yield where
    finally:
        subprocess.run(["umount", str(where)], check=False)


@pytest.mark.parametrize("fault", ["read-only", "full"])
def test_import_into_a_read_only_or_full_data_dir_says_so(tmp_path, runner, monkeypatch,
                                                         small_mount, fault):
    root = small_mount / "data"
    if fault == "read-only":
        subprocess.run(["mount", "-o", "remount,ro", str(small_mount)], check=True)
    else:  # fill the disk, leaving room for directories and the lock file only
        root.mkdir()
        try:
            with (small_mount / "filler").open("wb", buffering=0) as fh:
                while True:
                    fh.write(b"x" * 4096)
        except OSError:
            pass
    monkeypatch.setenv("LOCATOR_DATA_DIR", str(root))
    monkeypatch.setenv("LOCATOR_DATABASE_URL", "")
    path = sf.csv_bd09_gbk(sf.real_stations(), tmp_path / "zz.csv")
    r = runner.invoke(main, ["import", str(path), "--crs", "bd09", "--source", "zz"])
    assert r.exit_code == 2, r.output
    assert not isinstance(r.exception, OSError) or isinstance(r.exception, SystemExit)
    err = json.loads(r.stderr.strip().splitlines()[-1])
    assert set(err) == {"status", "code", "message", "field"}
    assert err["code"] == ("data_dir_read_only" if fault == "read-only" else "data_dir_full")
    assert "Traceback" not in r.stderr


@pytest.mark.slow
def test_database_down_gives_503_fast_and_recovers(request, tmp_path, runner, monkeypatch,
                                                   closing):
    pg = request.getfixturevalue("pg_cluster")
    if pg is None:
        pytest.skip("PostgreSQL is not installed")
    from tests.backends import fresh_database

    url = fresh_database(pg)
    monkeypatch.setenv("LOCATOR_DATA_DIR", str(tmp_path / "d"))
    monkeypatch.setenv("LOCATOR_DATABASE_URL", url)
    monkeypatch.setenv("LOCATOR_DATABASE_TIMEOUT", "2")
    from locator.storage import base

    cfg = {"DATABASE_URL": url, "DATA_PATH": str(tmp_path / "none"),
           "DATA_DIR": str(tmp_path / "d"), "DATABASE_TIMEOUT": 2.0}
    base.open_source(cfg).publish(_stations(3), meta={})
    src_app = closing(create_app({"TESTING": True, **cfg, "DATA_RELOAD_SECONDS": 0.01,
                                  "RATE_LIMIT_ENABLED": False}))
    client = src_app.test_client()
    assert client.get("/api/v1/health").get_json()["stations"] == 3
    pg.stop()
    try:
        started = time.monotonic()
        r = runner.invoke(main, ["datasets"])
        took = time.monotonic() - started
        assert r.exit_code == 2 and took < 5, (r.output, took)
        err = json.loads(r.stderr.strip().splitlines()[-1])
        assert (err["status"], err["code"]) == (503, "storage_unavailable")
        # The server keeps answering from the dataset it loaded.
        time.sleep(0.02)
        started = time.monotonic()
        body = client.get("/api/v1/health").get_json()
        assert body["stations"] == 3 and time.monotonic() - started < 5
        r = client.get("/api/v1/nearest?lat=34.7&lon=113.6&k=1")
        assert r.status_code == 200 and r.get_json()["features"][0]["id"] == "s0"
    finally:
        pg.start()
    # Back up: the commands work again, and the server follows a new publish by itself.
    assert runner.invoke(main, ["datasets"]).exit_code == 0
    deadline = time.monotonic() + 10
    base.open_source(cfg).publish(_stations(5), meta={})
    while time.monotonic() < deadline:
        client.get("/api/v1/health")
        src_app.extensions["locator.watcher"].wait()
        if client.get("/api/v1/health").get_json()["stations"] == 5:
            break
        time.sleep(0.1)
    assert client.get("/api/v1/health").get_json()["stations"] == 5


@pytest.mark.slow
def test_a_database_of_the_first_schema_keeps_its_versions_after_the_upgrade(request,
                                                                             tmp_path):
    pg = request.getfixturevalue("pg_cluster")
    if pg is None:
        pytest.skip("PostgreSQL is not installed")
    import sqlalchemy as sa
    from alembic import command
    from alembic.config import Config

    from locator.storage import base, postgis
    from tests.backends import fresh_database

    url = fresh_database(pg)
    old = "20250101T000000000000Z-000000000001"
    cfg = Config()
    cfg.set_main_option("script_location", str(postgis.MIGRATIONS))
    engine = postgis.engine_for(url, timeout=3.0)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
    engine.dispose()
    pg.psql(f"INSERT INTO station_versions (name, stations, complete) VALUES ('{old}', 2, true); "
            f"INSERT INTO live_version VALUES (true, '{old}'); "
            "INSERT INTO stations (version, id, kind, name, content_hash, modified_at, geom) "
            f"SELECT '{old}', 'old' || i, 'rest_station', '旧驿站' || i, i, '2026-01-01Z', "
            "ST_SetSRID(ST_MakePoint(113.6 + i / 100.0, 34.7), 4326) "
            "FROM generate_series(0, 1) i", db=url.rsplit("/", 1)[1])
    src = base.open_source({"DATABASE_URL": url, "DATA_PATH": str(tmp_path / "none"),
                            "DATA_DIR": str(tmp_path / "d")})
    try:
        ds = src.load()  # migrates to the newest schema first
        assert (ds.version, sorted(ds.frame["id"])) == (old, ["old0", "old1"])
        new = src.publish(_stations(3), meta={})
        assert [v.name for v in src.versions()] == [old, new]
        assert src.prune(1) == [old] and len(src.load()) == 3
        left = pg.psql("SELECT count(*) FROM pg_class WHERE relname LIKE 'stations_%' "
                       "AND relkind = 'r'", db=url.rsplit("/", 1)[1])
        assert left.strip() == "1"  # the pruned version's partition is gone
        with src.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM stations")).scalar_one() == 3
        with src.engine.begin() as conn:  # and back to one plain table, rows kept
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0001")
        assert pg.psql("SELECT count(*), bool_and(relkind = 'r') FROM stations, pg_class "
                       "WHERE relname = 'stations'", db=url.rsplit("/", 1)[1]).strip() == "3|t"
    finally:
        src.close()
