"""A published version's snapshot gives back exactly what the GeoPackage holds."""

from __future__ import annotations

import sqlite3

from locator.domain import schema
from locator.stations import dataset
from locator.storage import files
from tests.conftest import ROOT


def _gpkg_rows(path) -> dict[str, dict]:
    # Read with sqlite3, not GDAL: an independent view of the stored values.
    con = sqlite3.connect(path)
    con.row_factory = sqlite3.Row
    rows = {r["id"]: dict(r) for r in con.execute(f"SELECT * FROM {dataset.LAYER}")}
    con.close()
    return rows


def test_snapshot_is_written_once_and_matches_the_geopackage(tmp_path):
    frame = dataset.read(ROOT / "data" / "stations" / "demo_stations.gpkg").frame.iloc[:3000]
    dd = files.DataDir(tmp_path / "var")
    with dd.lock():
        name = dd.publish(frame, meta={"action": "test"})
    path = dd.versions_dir / f"{name}.gpkg"
    cold = dataset.read(path, snapshot=True)
    snaps = list((path.parent / dataset.SNAPSHOTS).glob("*.parquet"))
    assert len(snaps) == 1
    warm = dataset.read(path, snapshot=True)
    assert warm.version == cold.version == dataset.file_version(path)
    stored = _gpkg_rows(path)
    assert len(warm) == len(stored) == 3000
    for ds in (cold, warm):
        for row in range(0, len(ds), 7):
            rec = ds.record(row)
            want = stored[rec["id"]]
            for k in ("name", "kind", "address", "county_adcode", "opening_hours", "phone",
                      "status", "verified_at", "source"):
                assert rec[k] == (want[k] if want[k] != "" or k != "opening_hours" else None), k
            assert rec["amenities"] == [a for a in (want["amenities"] or "").split(";") if a]
            assert rec["demo"] is bool(want["demo"])
    assert (warm.lon == cold.lon).all() and (warm.lat == cold.lat).all()
    assert set(schema.FIELDS) <= set(warm.columns)


def test_files_outside_the_data_dir_get_no_snapshot(tmp_path):
    src = ROOT / "data" / "stations" / "demo_stations.gpkg"
    dataset.read(src)
    assert not (src.parent / dataset.SNAPSHOTS).exists()
