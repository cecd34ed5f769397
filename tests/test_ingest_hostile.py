"""Hostile files: each is refused with a clear report, and the live data stays as it was."""

from __future__ import annotations

import csv
import hashlib
import json

import pytest

from locator.cli.main import main
from locator.storage import files
from tests import stationfiles as sf


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def live(tmp_path, monkeypatch, runner):
    """A data folder with one published version of the 82 real stations."""
    monkeypatch.setenv("LOCATOR_DATA_DIR", str(tmp_path / "data"))
    src = sf.csv_bd09_gbk(sf.real_stations(), tmp_path / "zz.csv")
    r = runner.invoke(main, ["import", str(src), "--crs", "bd09", "--source", "zz"])
    assert r.exit_code == 0, r.output
    dd = files.DataDir(tmp_path / "data")
    assert dd.current() is not None
    return dd


def _state(dd, path):
    """The live file's bytes, the pointer and the list of versions."""
    names = sorted(p.name for p in dd.versions_dir.iterdir())
    return _digest(path), dd.pointer.read_bytes(), names


def _refused(runner, dd, args, tmp_path, *, expect):
    name = dd.current()
    path = dd.versions_dir / f"{name}.gpkg"
    before = _state(dd, path)
    report = tmp_path / "report.csv"
    r = runner.invoke(main, ["import", *args, "--source", "zz", "--report", str(report)])
    assert r.exit_code == 1, r.output
    assert r.exception is None or isinstance(r.exception, SystemExit)
    assert "import refused" in r.stderr and expect in r.stderr
    after = _state(dd, path)
    assert after == before
    with report.open(encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    refusal = [row for row in rows if row["code"] == "file_refused"]
    assert len(refusal) == 1 and refusal[0]["reason_zh"] and refusal[0]["reason_en"]
    assert expect in refusal[0]["reason_en"]
    return rows


def test_empty_file(tmp_path, live, runner):
    (tmp_path / "empty.csv").write_bytes(b"")
    _refused(runner, live, [str(tmp_path / "empty.csv"), "--crs", "gcj02"], tmp_path,
             expect="empty")
    (tmp_path / "blank.csv").write_bytes(b"\r\n  \n")
    _refused(runner, live, [str(tmp_path / "blank.csv"), "--crs", "gcj02"], tmp_path,
             expect="empty")


def test_binary_named_csv(tmp_path, live, runner):
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 40
    (tmp_path / "photo.csv").write_bytes(png)
    _refused(runner, live, [str(tmp_path / "photo.csv"), "--crs", "gcj02"], tmp_path,
             expect="binary")
    xlsx = sf.xlsx_gcj02(sf.real_stations(), tmp_path / "book.xlsx").read_bytes()
    (tmp_path / "book.csv").write_bytes(xlsx)
    _refused(runner, live, [str(tmp_path / "book.csv"), "--crs", "gcj02"], tmp_path,
             expect="XLSX")


def test_wrong_encoding(tmp_path, live, runner):
    gbk = sf.csv_bd09_gbk(sf.real_stations(), tmp_path / "gbk.csv")
    _refused(runner, live, [str(gbk), "--crs", "bd09", "--encoding", "utf-8"], tmp_path,
             expect="decodes as GBK")
    text = "名称,经度,纬度\n中原区驿站,113.6,34.7\n"
    (tmp_path / "utf16.csv").write_bytes(text.encode("utf-16"))
    _refused(runner, live, [str(tmp_path / "utf16.csv"), "--crs", "gcj02"], tmp_path,
             expect="UTF-16")
    big5 = "站點名稱,經度,緯度,地址\n" + "".join(f"鄭州市工會驛站{i},113.6,34.7,鄭州市中原區\n"
                                            for i in range(30))
    (tmp_path / "big5.csv").write_bytes(big5.encode("big5"))
    _refused(runner, live, [str(tmp_path / "big5.csv"), "--crs", "gcj02"], tmp_path,
             expect="name")


def test_too_many_rows(tmp_path, live, runner):
    path = tmp_path / "huge.csv"
    line = "郑州驿站,113.6645,34.7536\n"
    path.write_text("名称,经度,纬度\n" + line * 200_000, encoding="utf-8")
    _refused(runner, live, [str(path), "--crs", "gcj02"], tmp_path, expect="100,000 rows")


def test_megabyte_cell(tmp_path, live, runner):
    path = tmp_path / "cell.csv"
    path.write_text("名称,经度,纬度,地址\n郑州驿站,113.6645,34.7536," + "长" * 1_000_000 + "\n",
                    encoding="utf-8")
    _refused(runner, live, [str(path), "--crs", "gcj02"], tmp_path, expect="1,000,000")


def test_formula_cells(tmp_path, live, runner):
    path = tmp_path / "formula.csv"
    rows = ["名称,经度,纬度,类型"]
    rows += [f'"=HYPERLINK(""http://evil.example/{i}"",""点我"")",113.66,34.75,驿站'
             for i in range(5)]
    rows += ["@SUM(1+1)*cmd|' /C calc'!A0,113.67,34.75,驿站",
             "-2+3+cmd|' /C calc'!A0,113.68,34.75,驿站"]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    report = _refused(runner, live, [str(path), "--crs", "gcj02"], tmp_path,
                      expect="no row could be imported")
    flagged = {int(r["row"]) for r in report if r["code"] == "formula"}
    assert flagged == set(range(2, 9))
    # The report itself is opened in Excel: its copies of the formulas must be inert.
    values = [r["value"] for r in report if r["code"] == "formula"]
    assert all(v.startswith("'") for v in values)


def test_xlsx_formula_cells(tmp_path, live, runner):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["站点名称", "经度", "纬度"])
    for i in range(4):
        ws.append([f'=HYPERLINK("http://evil.example/{i}","驿站")', 113.66, f"=34.7+{i}/100"])
    wb.save(tmp_path / "f.xlsx")
    report = _refused(runner, live, [str(tmp_path / "f.xlsx"), "--crs", "gcj02"], tmp_path,
                      expect="no row could be imported")
    flagged = sorted({int(r["row"]) for r in report if r["code"] == "formula"})
    assert flagged == [2, 3, 4, 5]
    assert {r["column"] for r in report if r["code"] == "formula"} == {"站点名称", "纬度"}


def test_xlsx_without_a_usable_sheet(tmp_path, live, runner):
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.title = "封面"
    wb.active.append(["2024 年度工作总结"])
    data = wb.create_sheet("数据")
    data.append(["a", "b", "c"])
    data.append([1, 2, 3])
    wb.create_sheet("空表")
    wb.save(tmp_path / "book.xlsx")
    _refused(runner, live, [str(tmp_path / "book.xlsx"), "--crs", "gcj02"], tmp_path,
             expect="no sheet has a usable header")
    (tmp_path / "fake.xlsx").write_text("名称,经度\n", encoding="utf-8")
    _refused(runner, live, [str(tmp_path / "fake.xlsx"), "--crs", "gcj02"], tmp_path,
             expect="not a readable XLSX")


def test_geojson_with_polygons(tmp_path, live, runner):
    ring = [[113.6, 34.7], [113.7, 34.7], [113.7, 34.8], [113.6, 34.7]]
    fc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": f"片区{i}"},
         "geometry": {"type": "Polygon", "coordinates": [ring]}} for i in range(3)]}
    (tmp_path / "areas.geojson").write_text(json.dumps(fc, ensure_ascii=False), "utf-8")
    _refused(runner, live, [str(tmp_path / "areas.geojson")], tmp_path,
             expect="not points (found Polygon)")


def test_broken_geojson_and_unknown_type(tmp_path, live, runner):
    (tmp_path / "cut.geojson").write_text('{"type": "FeatureCollection", "features": [',
                                          "utf-8")
    _refused(runner, live, [str(tmp_path / "cut.geojson")], tmp_path, expect="cannot be read")
    (tmp_path / "list.docx").write_bytes(b"PK\x03\x04")
    _refused(runner, live, [str(tmp_path / "list.docx")], tmp_path, expect="unsupported")


def test_zip_bomb_is_refused_before_unpacking(tmp_path):
    import zipfile

    from locator.ingest.read import Limits, read_table
    from locator.ingest.report import ImportRefusedError

    with zipfile.ZipFile(tmp_path / "bomb.xlsx", "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/worksheets/sheet1.xml", b"\0" * 2_000_000)
    assert (tmp_path / "bomb.xlsx").stat().st_size < 50_000
    with pytest.raises(ImportRefusedError, match="unpacks to 2,000,000 bytes"):
        read_table(tmp_path / "bomb.xlsx", limits=Limits(max_bytes=100_000))
