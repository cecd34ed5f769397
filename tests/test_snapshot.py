"""A published version's served snapshot gives back exactly what the GeoPackage holds."""

from __future__ import annotations

import mmap
import sqlite3
import subprocess
import sys

import numpy as np
import pytest
from pyproj import Geod

from locator.domain import schema
from locator.stations import dataset
from locator.storage import files
from tests.conftest import ROOT

DEMO = ROOT / "data" / "stations" / "demo_stations.gpkg"
GEOD = Geod(ellps="WGS84")


def mapped(a) -> bool:
    """Whether an array's memory is a mapped file (the array, or what it views)."""
    while a is not None:
        if isinstance(a, np.memmap | mmap.mmap):
            return True
        a = getattr(a, "base", None)
    return False


def _gpkg_rows(path) -> dict[str, dict]:
    # Read with sqlite3, not GDAL: an independent view of the stored values.
    con = sqlite3.connect(path)
    con.row_factory = sqlite3.Row
    rows = {r["id"]: dict(r) for r in con.execute(f"SELECT * FROM {dataset.LAYER}")}
    con.close()
    return rows


@pytest.fixture(scope="module")
def demo_frame():
    return dataset.read(DEMO).frame.iloc[:3000]


def _published(tmp_path, frame):
    src = files.FileSource(tmp_path / "var", fallback=DEMO)
    with src.lock():
        name = src.publish(frame, meta={"action": "test"})
    return src, name, src.dir.versions_dir / f"{name}.gpkg"


def _snapshots(src):
    return sorted(p for p in (src.dir.versions_dir / dataset.SNAPSHOTS).glob("*") if p.is_dir())


def _assert_matches_file(ds, path):
    stored = _gpkg_rows(path)
    assert len(ds) == len(stored)
    for row in range(0, len(ds), 7):
        rec = ds.record(row)
        want = stored[rec["id"]]
        for k in ("name", "kind", "address", "county_adcode", "opening_hours", "phone",
                  "status", "verified_at", "source"):
            assert rec[k] == (want[k] if want[k] != "" or k != "opening_hours" else None), k
        assert rec["amenities"] == [a for a in (want["amenities"] or "").split(";") if a]
        assert rec["demo"] is bool(want["demo"])
        assert ds.row(rec["id"]) == row


def _counting_reads(monkeypatch):
    reads = []
    real = dataset.read

    def read(path):
        reads.append(path)
        return real(path)

    monkeypatch.setattr(dataset, "read", read)
    return reads


def test_snapshot_is_written_once_then_mapped(tmp_path, demo_frame, monkeypatch):
    src, _, path = _published(tmp_path, demo_frame)
    reads = _counting_reads(monkeypatch)
    cold = src.load()
    assert len(_snapshots(src)) == 1 and len(reads) == 1
    warm = src.load()
    assert len(_snapshots(src)) == 1 and len(reads) == 1
    # Both serve the mapped snapshot: no private copy of the arrays.
    assert mapped(warm.lon) and mapped(cold.lon)
    assert warm.version == cold.version == dataset.file_version(path)
    for ds in (cold, warm):
        _assert_matches_file(ds, path)
    assert (warm.lon == cold.lon).all() and (warm.lat == cold.lat).all()
    assert (warm.modified_at == cold.modified_at).all()
    assert warm.counts() == cold.counts()
    assert set(schema.FIELDS) <= set(warm.columns)


def test_mapped_trees_find_the_brute_force_nearest(tmp_path, demo_frame):
    src, _, path = _published(tmp_path, demo_frame)
    src.load()
    warm = src.load()
    stored = _gpkg_rows(path)
    ids = np.array(list(stored))
    open_ = np.array([stored[i]["status"] == "open" for i in ids])
    lon, lat = warm.lon[[warm.row(i) for i in ids]], warm.lat[[warm.row(i) for i in ids]]
    rng = np.random.default_rng(7)
    for qlon, qlat in zip(rng.uniform(111, 116, 25), rng.uniform(32, 36, 25), strict=True):
        hits = warm.index.query(float(qlon), float(qlat), k=3)
        _, _, d = GEOD.inv(np.full(len(ids), qlon), np.full(len(ids), qlat), lon, lat)
        d = np.where(open_, d, np.inf)
        want = ids[np.argsort(d, kind="stable")[:3]]
        got = [warm.record(int(r))["id"] for r in hits.rows]
        assert got == list(want)
        np.testing.assert_allclose(hits.distance_m, np.sort(d)[:3], rtol=1e-9)


def test_frame_rebuilt_from_a_snapshot_equals_the_file(tmp_path, demo_frame):
    src, _, path = _published(tmp_path, demo_frame)
    src.load()
    frame = src.load().frame
    stored = _gpkg_rows(path)
    assert list(frame["id"]) == list(stored)
    assert frame.crs.to_epsg() == 4326
    first = stored[frame["id"].iloc[0]]
    assert frame["name"].iloc[0] == first["name"]
    got = frame.geometry.iloc[10]
    ref = dataset.read(path).frame.geometry.iloc[10]
    assert (got.x, got.y) == (ref.x, ref.y)


@pytest.mark.parametrize("damage", ["meta", "columns", "trees"])
def test_a_torn_snapshot_is_rebuilt(tmp_path, demo_frame, damage):
    src, _, path = _published(tmp_path, demo_frame)
    src.load()
    (snap,) = _snapshots(src)
    target = {"meta": snap / "meta.json", "columns": snap / "columns.arrow",
              "trees": snap / "trees.pickle"}[damage]
    with target.open("r+b") as fh:
        fh.truncate(max(0, target.stat().st_size // 3))
    again = src.load()
    _assert_matches_file(again, path)
    assert len(_snapshots(src)) == 1
    assert mapped(src.load().lon)  # the rebuilt snapshot is whole


def test_a_data_folder_without_room_for_snapshots_still_serves(tmp_path, demo_frame):
    src, _, path = _published(tmp_path, demo_frame)
    # A plain file where the snapshot folder would go: no snapshot can be
    # written, whoever runs the test (root ignores read-only modes).
    (src.dir.versions_dir / dataset.SNAPSHOTS).write_text("not a folder")
    for _ in range(2):
        ds = src.load()
        _assert_matches_file(ds, path)
        assert not mapped(ds.lon)


def test_pruned_versions_lose_their_snapshots(tmp_path, demo_frame):
    src, first, _ = _published(tmp_path, demo_frame)
    src.load()
    with src.lock():
        second = src.publish(demo_frame.iloc[:2000], meta={"action": "test"})
    src.load()
    assert len(_snapshots(src)) == 2
    src.prune(1)
    left = [p.name for p in _snapshots(src)]
    assert len(left) == 1 and left[0].startswith(f"{second}.gpkg.")
    assert first != second


@pytest.mark.slow
def test_workers_starting_together_build_the_snapshot_once(tmp_path, demo_frame):
    src, _, _ = _published(tmp_path, demo_frame)
    code = ("from locator.stations import dataset; from locator.storage import files\n"
            "real = dataset.read\n"
            "def read(p):\n    print('built'); return real(p)\n"
            "dataset.read = read\n"
            f"ds = files.FileSource({str(src.dir.root)!r}, fallback={str(DEMO)!r}).load()\n"
            "print('loaded', len(ds))\n")
    procs = [subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
             for _ in range(3)]
    outs = " ".join(p.communicate(timeout=120)[0] for p in procs).split()
    assert all(p.returncode == 0 for p in procs)
    assert outs.count("built") == 1 and outs.count("loaded") == 3
    assert len(_snapshots(src)) == 1


def test_files_outside_the_data_dir_get_no_snapshot(tmp_path):
    src = files.FileSource(tmp_path / "var", fallback=DEMO)
    src.load()
    assert not (DEMO.parent / dataset.SNAPSHOTS).exists()
    assert not (tmp_path / "var" / "versions" / dataset.SNAPSHOTS).exists()


def test_both_backends_map_a_version_after_its_first_load(backend, demo_frame, monkeypatch):
    with backend.source.lock():
        name = backend.source.publish(demo_frame, meta={"action": "test"})
    reads = _counting_reads(monkeypatch)
    if backend.name == "postgis":
        real_copy = backend.source._copy_out
        monkeypatch.setattr(backend.source, "_copy_out",
                            lambda version: reads.append(version) or real_copy(version))
    cold = backend.source.load()
    warm = backend.source.load()
    assert len(reads) == 1  # the version was read once; the second load mapped it
    assert cold.version == warm.version
    assert mapped(warm.lon) and mapped(cold.lon)
    assert warm.counts() == cold.counts()
    want = demo_frame.set_index("id")
    for row in range(0, len(warm), 11):
        rec = warm.record(row)
        assert rec["name"] == want.loc[rec["id"], "name"]
        assert warm.lon[row] == pytest.approx(want.loc[rec["id"]].geometry.x, abs=1e-9)
    assert (warm.modified_at == cold.modified_at).all()
    # A newer version is a new snapshot; the older one is never served for it.
    with backend.source.lock():
        newer = backend.source.publish(demo_frame.iloc[:500], meta={"action": "test"})
    assert newer != name
    assert len(backend.source.load()) == 500
    assert len(backend.source.load()) == 500


def test_an_import_leaves_the_served_snapshot_ready(tmp_path, monkeypatch, runner):
    """The server that starts after ``locator import`` maps the version: it never reads it."""
    from locator.cli.main import main
    from tests import stationfiles as sf

    monkeypatch.setenv("LOCATOR_DATA_DIR", str(tmp_path / "var"))
    stations = sf.csv_bd09_gbk(sf.real_stations(), tmp_path / "zz.csv")
    r = runner.invoke(main, ["import", str(stations), "--crs", "bd09", "--source", "zz"])
    assert r.exit_code == 0, r.output
    assert "served snapshot ready" in r.output
    src = files.FileSource(tmp_path / "var", fallback=DEMO)
    assert len(_snapshots(src)) == 1
    reads = _counting_reads(monkeypatch)
    ds = src.load()
    assert reads == [] and mapped(ds.lon)
    _assert_matches_file(ds, src.dir.versions_dir / f"{src.version()}.gpkg")
