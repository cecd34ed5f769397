"""A version's served snapshot, built on one host, reaches the others through PostgreSQL."""

from __future__ import annotations

import numpy as np
import psycopg
import pytest
from pyproj import Geod

from locator.stations import dataset, served, snapshot
from locator.storage import postgis
from tests.backends import fresh_database
from tests.conftest import ROOT
from tests.test_snapshot import mapped

DEMO = ROOT / "data" / "stations" / "demo_stations.gpkg"
GEOD = Geod(ellps="WGS84")


@pytest.fixture(scope="module")
def frame():
    return dataset.read(DEMO).frame.iloc[:4000]


@pytest.fixture
def url(pg_cluster):
    if pg_cluster is None:
        pytest.skip("PostgreSQL is not installed")
    return fresh_database(pg_cluster)


def _host(url, tmp_path, name):
    return postgis.PostgisSource(url, fallback=DEMO, snapshots=tmp_path / name)


def _sql(url, query, *args):
    with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as conn:
        cur = conn.execute(query, args)
        return cur.fetchall() if cur.description else []


def _folder(src):
    (folder,) = [p for p in src.snapshots.glob("*/*") if p.is_dir()]
    return folder


def _empty_the_version(url, name):
    """Remove the version's rows: from now on only a fetched snapshot can serve it."""
    _sql(url, f'TRUNCATE "{postgis.partition(name)}"')


def test_a_second_host_maps_the_first_hosts_snapshot_without_reading_rows(url, tmp_path, frame):
    a = _host(url, tmp_path, "a")
    with a.lock():
        name = a.publish(frame, meta={"action": "test"})
    built = a.load()
    listed = _sql(url, "SELECT version, files FROM snapshot_shared")
    assert [v for v, _ in listed] == [name]
    files = listed[0][1]
    # The arrays and the columns travel; the pickled trees never do.
    assert "columns.arrow" in files and not any("pickle" in f for f in files)
    folder_a = _folder(a)
    assert files == {f: (folder_a / f).stat().st_size for f in snapshot.travelling(folder_a)}
    _empty_the_version(url, name)
    b = _host(url, tmp_path, "b")
    got = b.load()
    # Host B serves from the fetched bytes at once and writes its folder after.
    assert not mapped(got.lon) and got.version == name
    served.settle()
    folder_b = _folder(b)
    for f in files:  # byte for byte what host A wrote
        assert (folder_b / f).read_bytes() == (folder_a / f).read_bytes(), f
    assert got.counts() == built.counts()
    again = _host(url, tmp_path, "b").load()  # a later worker of host B maps that folder
    assert mapped(again.lon) and again.counts() == built.counts()
    # Host B's own trees find what a brute-force geodesic search finds in the frame.
    want = frame.reset_index(drop=True)
    is_open = (want["status"] == "open").to_numpy()
    rng = np.random.default_rng(3)
    for qlon, qlat in zip(rng.uniform(111, 116, 20), rng.uniform(32, 36, 20), strict=True):
        hits = got.index.query(float(qlon), float(qlat), k=3)
        _, _, d = GEOD.inv(np.full(len(want), qlon), np.full(len(want), qlat),
                           want.geometry.x.to_numpy(), want.geometry.y.to_numpy())
        d = np.where(is_open, d, np.inf)
        assert [got.record(int(r))["id"] for r in hits.rows] == \
            want["id"].to_numpy()[np.argsort(d, kind="stable")[:3]].tolist()


def test_a_damaged_shared_copy_is_ignored_and_the_host_builds_its_own(url, tmp_path, frame):
    a = _host(url, tmp_path, "a")
    with a.lock():
        a.publish(frame, meta={"action": "test"})
    a.load()
    _sql(url, "UPDATE snapshot_parts SET data = 'not zstd' WHERE file = 'columns.arrow'")
    b = _host(url, tmp_path, "b")
    got = b.load()
    assert len(got) == len(frame)
    ids = set(frame["id"])
    assert {got.record(r)["id"] for r in range(0, len(got), 97)} <= ids
    assert not list(b.snapshots.glob("*/.tmp-*"))  # the torn fetch left nothing behind


def test_a_shared_snapshot_goes_with_its_version(url, tmp_path, frame):
    a = _host(url, tmp_path, "a")
    with a.lock():
        old = a.publish(frame, meta={"action": "test"})
    a.load()
    with a.lock():
        new = a.publish(frame.iloc[:1000], meta={"action": "test"})
    a.load()
    assert {v for (v,) in _sql(url, "SELECT DISTINCT version FROM snapshot_parts")} == {old, new}
    a.prune(1)
    assert _sql(url, "SELECT DISTINCT version FROM snapshot_parts") == [(new,)]
    assert _sql(url, "SELECT version FROM snapshot_shared") == [(new,)]


def test_a_fetching_host_serves_before_its_folder_is_whole_and_its_workers_wait(
        url, tmp_path, frame):
    """The first worker of a new host answers from the fetched bytes while its
    folder is written; a second worker waits for the folder and maps it whole."""
    import threading

    a = _host(url, tmp_path, "a")
    with a.lock():
        name = a.publish(frame, meta={"action": "test"})
    a.load()
    _empty_the_version(url, name)
    hold = threading.Event()
    finish = snapshot.finish

    def slow_finish(*args, **kwargs):
        hold.wait(30)
        return finish(*args, **kwargs)

    snapshot.finish = slow_finish
    try:
        first = _host(url, tmp_path, "b").load()
        assert not mapped(first.lon) and len(first) == len(frame)
        assert not [p for p in (tmp_path / "b").glob("*/*") if p.is_dir() and
                    not p.name.startswith(".tmp-")]  # not in place yet
        second: list = []
        worker = threading.Thread(target=lambda: second.append(_host(url, tmp_path, "b").load()))
        worker.start()
        worker.join(1.0)
        assert worker.is_alive()  # waiting on the building lock, not fetching again
        hold.set()
        worker.join(30)
    finally:
        hold.set()
        snapshot.finish = finish
        served.settle()
    (got,) = second
    assert mapped(got.lon) and (_folder(_host(url, tmp_path, "b")) / "trees.pickle").is_file()
    rng = np.random.default_rng(8)
    for qlon, qlat in zip(rng.uniform(111, 116, 10), rng.uniform(32, 36, 10), strict=True):
        assert got.index.query(float(qlon), float(qlat), k=4).rows.tolist() == \
            first.index.query(float(qlon), float(qlat), k=4).rows.tolist()
    assert len(_sql(url, "SELECT 1 FROM snapshot_shared")) == 1
