"""Reading station lists: CSV (any of the encodings Chinese offices save in), XLSX,
GeoJSON, GeoPackage and zipped Shapefile, into one table of text cells.

Anything that cannot be a station list (empty, binary, undecodable, too big, a
cell of megabytes) is refused here with :class:`ImportRefusedError`, before a
single value reaches the dataset.
"""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyogrio
import shapely

from locator.ingest.report import ImportRefusedError

VECTOR_SUFFIXES = (".geojson", ".json", ".gpkg", ".zip", ".shp")
TABLE_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm")
EXPANSION = 5
_ENCODING_ALIASES = {"gbk": "gb18030", "gb2312": "gb18030", "cp936": "gb18030",
                     "utf8": "utf-8-sig", "utf-8": "utf-8-sig", "utf_8": "utf-8-sig"}


@dataclass(frozen=True)
class Limits:
    max_rows: int = 100_000
    max_bytes: int = 200_000_000
    max_cell: int = 10_000


@dataclass
class RawTable:
    """Cells as text, one record per data row, plus geometry for vector files.

    ``rows`` holds each record's row number as a person sees it in the file:
    the spreadsheet row (header is row 1) or the feature number.
    """

    frame: pd.DataFrame
    rows: np.ndarray
    fmt: str
    encoding: str | None = None
    sheet: str | None = None
    x: np.ndarray | None = None
    y: np.ndarray | None = None
    geom_type: np.ndarray | None = None
    file_crs: Any = None


def read_table(path: str | Path, *, encoding: str | None = None, sheet: str | None = None,
               limits: Limits | None = None,
               header_score: Callable[[list[str]], int] | None = None) -> RawTable:
    """Read ``path`` into a :class:`RawTable` or raise :class:`ImportRefusedError`.

    ``header_score`` rates a candidate header row (how many recognised
    columns it has); it picks the sheet and header row of spreadsheets.
    """
    limits = limits or Limits()
    p = Path(path)
    if not p.is_file():
        raise ImportRefusedError(f"no such file: {p}", f"文件不存在：{p}")
    size = p.stat().st_size
    if size == 0:
        raise ImportRefusedError("the file is empty", "文件是空的")
    if size > limits.max_bytes:
        raise ImportRefusedError(f"the file is {size:,} bytes; the limit is {limits.max_bytes:,}",
                                 f"文件过大（{size:,} 字节，上限 {limits.max_bytes:,}）")
    suffix = p.suffix.lower()
    with p.open("rb") as fh:
        head = fh.read(8)
    if suffix in (".xlsx", ".xlsm", ".zip"):
        _check_expansion(p, limits)
    if suffix in (".xlsx", ".xlsm"):
        table = _read_xlsx(p, sheet, limits, header_score)
    elif suffix in VECTOR_SUFFIXES:
        table = _read_vector(p, sheet, limits)
    elif suffix in (".csv", ".txt", ".tsv") or suffix == "":
        if head.startswith(b"PK\x03\x04"):
            raise ImportRefusedError("this is a zip or XLSX file, not CSV text; save it with the "
                                     "right name (.xlsx or .zip)",
                                     "这是 zip/XLSX 文件而不是 CSV 文本，请使用正确的扩展名")
        table = _read_csv(p, encoding, limits, header_score)
    else:
        raise ImportRefusedError(f"unsupported file type {suffix!r}; use CSV, XLSX, GeoJSON, "
                                 "GeoPackage or a zipped Shapefile",
                                 f"不支持的文件类型 {suffix}；请使用 CSV、XLSX、GeoJSON、"
                                 "GeoPackage 或压缩的 Shapefile")
    _check_cells(table, limits)
    return table


def _check_expansion(p: Path, limits: Limits) -> None:
    """Refuse a zip (XLSX is one) that would unpack to far more than the size limit."""
    try:
        with zipfile.ZipFile(p) as z:
            total = sum(i.file_size for i in z.infolist())
    except (zipfile.BadZipFile, OSError):
        return  # the reader reports an unreadable file in its own words
    if total > EXPANSION * limits.max_bytes:
        raise ImportRefusedError(
            f"the archive unpacks to {total:,} bytes, more than {EXPANSION} times the "
            f"{limits.max_bytes:,}-byte limit",
            f"压缩文件解压后有 {total:,} 字节，超过上限 {limits.max_bytes:,} 字节的 {EXPANSION} 倍")


def _refuse_rows(n: int, limits: Limits) -> None:
    if n > limits.max_rows:
        raise ImportRefusedError(f"the file has more than {limits.max_rows:,} rows",
                                 f"文件超过 {limits.max_rows:,} 行的上限")


def decode(data: bytes, encoding: str | None) -> tuple[str, str]:
    """Decode CSV bytes strictly; detect UTF-8 (with or without BOM) or GBK/GB18030."""
    if b"\x00" in data[:65536]:
        if data[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
            raise ImportRefusedError("the file is UTF-16 text; save it as UTF-8 or GBK CSV",
                                     "文件是 UTF-16 编码；请另存为 UTF-8 或 GBK 的 CSV")
        raise ImportRefusedError("the file is binary, not CSV text",
                                 "文件是二进制数据，不是 CSV 文本")
    if encoding:
        name = _ENCODING_ALIASES.get(encoding.strip().lower(), encoding.strip())
        try:
            codecs.lookup(name)
        except LookupError:
            raise ImportRefusedError(f"unknown encoding {encoding!r}",
                                     f"未知的编码 {encoding}") from None
        try:
            return data.decode(name), name
        except UnicodeDecodeError as exc:
            raise _decode_error(data, exc, name) from None
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data.decode("utf-8-sig"), "utf-8-sig"
        except UnicodeDecodeError as exc:
            raise _decode_error(data, exc, "utf-8-sig") from None
    for name in ("utf-8", "gb18030"):
        try:
            return data.decode(name), name
        except UnicodeDecodeError:
            continue
    guess = _guess(data)
    raise ImportRefusedError(f"the text is neither UTF-8 nor GBK/GB18030 (it looks like {guess}); "
                             "save it as UTF-8 or GBK, or name the encoding with --encoding",
                             f"文本既不是 UTF-8 也不是 GBK/GB18030（疑似 {guess}）；"
                             "请另存为 UTF-8 或 GBK，或用 --encoding 指定编码")


def _guess(data: bytes) -> str:
    from charset_normalizer import from_bytes

    best = from_bytes(data[:200_000]).best()
    return best.encoding if best is not None else "binary data"


def _decode_error(data: bytes, exc: UnicodeDecodeError, name: str) -> ImportRefusedError:
    line = data[: exc.start].count(b"\n") + 1
    try:
        data.decode("gb18030")
        hint_en, hint_zh = " (it decodes as GBK/GB18030)", "（按 GBK/GB18030 可以解码）"
    except UnicodeDecodeError:
        hint_en, hint_zh = "", ""
    return ImportRefusedError(f"the file is not valid {name}: bad bytes on line {line}{hint_en}",
                              f"文件不是有效的 {name} 编码：第 {line} 行有无法解码的字节{hint_zh}")


def _read_csv(p: Path, encoding: str | None, limits: Limits,
              header_score: Callable[[list[str]], int] | None) -> RawTable:
    text, used = decode(p.read_bytes(), encoding)
    text = text.lstrip("\ufeff")
    if not text.strip():
        raise ImportRefusedError("the file is empty", "文件是空的")
    head_lines = text.split("\n", 10)[:10]
    sep = max([",", "\t", ";", "|"], key=head_lines[0].count)
    # A title line above the header is common in lists saved from Excel.
    skip = 0
    if header_score is not None:
        try:
            scores = [header_score([c.strip() for c in row])
                      for row in csv.reader(head_lines, delimiter=sep)]
        except csv.Error:  # e.g. a giant cell; the full parse below reports it
            scores = []
        if scores and max(scores) > 0:
            skip = int(np.argmax(scores))
    try:
        frame = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False,
                            nrows=limits.max_rows + 1, skipinitialspace=True, skiprows=skip,
                            skip_blank_lines=False, quoting=csv.QUOTE_MINIMAL, engine="c",
                            on_bad_lines="error")
    except pd.errors.EmptyDataError:
        raise ImportRefusedError("the file is empty", "文件是空的") from None
    except (pd.errors.ParserError, ValueError) as exc:
        raise ImportRefusedError(f"the CSV cannot be read: {exc}",
                                 f"CSV 无法读取：{exc}") from None
    # Rows are numbered as a spreadsheet shows them: header row = skip + 1.
    rows = np.arange(skip + 2, skip + 2 + len(frame))
    filled = (frame != "").any(axis=1).to_numpy() if len(frame.columns) else np.zeros(0, bool)
    frame, rows = frame[filled].reset_index(drop=True), rows[filled]
    _refuse_rows(len(frame), limits)
    if frame.empty:
        raise ImportRefusedError("the file has a header but no data rows",
                                 "文件只有表头，没有数据行")
    frame.columns = [str(c).strip() for c in frame.columns]
    frame = frame.loc[:, ~(frame.columns.str.startswith("Unnamed:")
                           & (frame == "").all(axis=0).to_numpy())]
    return RawTable(frame, rows, "csv", encoding=used)


def _cell_text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)
    if hasattr(v, "isoformat"):
        text = v.isoformat()
        return text[:10] if text.endswith("T00:00:00") else text
    return str(v)


def _read_xlsx(p: Path, sheet: str | None, limits: Limits,
               header_score: Callable[[list[str]], int] | None) -> RawTable:
    import openpyxl

    try:
        # data_only=False keeps formulas as their text, so they can be refused.
        wb = openpyxl.load_workbook(p, read_only=True, data_only=False)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise ImportRefusedError(f"not a readable XLSX workbook ({exc.__class__.__name__})",
                                 "不是可读取的 XLSX 工作簿") from None
    try:
        names = wb.sheetnames
        if sheet:
            chosen = [names[int(sheet) - 1]] if sheet.isdigit() and 0 < int(sheet) <= len(names) \
                else [s for s in names if s == sheet]
            if not chosen:
                raise ImportRefusedError(f"no sheet {sheet!r}; the sheets are {', '.join(names)}",
                                         f"没有工作表 {sheet}；现有：{'、'.join(names)}",
                                         column="sheet")
        else:
            chosen = names
        best: tuple[int, str, int, list[list[Any]]] | None = None
        for name in chosen:
            ws = wb[name]
            head = [list(r) for r in ws.iter_rows(max_row=10, values_only=True)]
            for i, row in enumerate(head):
                cells = [_cell_text(c).strip() for c in row]
                score = header_score(cells) if header_score else sum(bool(c) for c in cells)
                if score > 0 and (best is None or score > best[0]):
                    best = (score, name, i, head)
        if best is None or (header_score is not None and best[0] < 2):
            raise ImportRefusedError(
                f"no sheet has a usable header (a name column and coordinates or an "
                f"address); sheets: {', '.join(names)}",
                f"没有可用的工作表（需要有名称列和坐标或地址列的表头）；工作表：{'、'.join(names)}",
                column="sheet")
        _, name, header_row, _ = best
        ws = wb[name]
        header: list[str] = []
        data: list[list[str]] = []
        numbers: list[int] = []
        for i, row in enumerate(ws.iter_rows(values_only=True)):
            if i < header_row:
                continue
            cells = [_cell_text(c) for c in row]
            if i == header_row:
                header = [c.strip() for c in cells]
                continue
            if not any(c.strip() for c in cells):
                continue
            data.append(cells)
            numbers.append(i + 1)
            if len(data) > limits.max_rows:
                _refuse_rows(len(data), limits)
    finally:
        wb.close()
    if not data:
        raise ImportRefusedError(f"sheet {name!r} has a header but no data rows",
                                 f"工作表 {name} 只有表头，没有数据行")
    width = len(header)
    header = [h or f"column{j + 1}" for j, h in enumerate(header)]
    frame = pd.DataFrame([(r + [""] * width)[:width] for r in data], columns=header, dtype=str)
    # Blank rows are skipped, so rows keep the number the sheet shows.
    return RawTable(frame, np.asarray(numbers, dtype=np.int64), "xlsx", sheet=name)


def _read_vector(p: Path, layer: str | None, limits: Limits) -> RawTable:
    src = f"/vsizip/{p}" if p.suffix.lower() == ".zip" else str(p)
    try:
        layers = [str(n) for n, _ in pyogrio.list_layers(src)]
        if not layers:
            raise ImportRefusedError("the file has no layers", "文件中没有图层")
        use = layer if layer in layers else layers[0]
        if layer and layer not in layers:
            raise ImportRefusedError(f"no layer {layer!r}; layers: {', '.join(layers)}",
                                     f"没有图层 {layer}；现有：{'、'.join(layers)}", column="sheet")
        info = pyogrio.read_info(src, layer=use)
        _refuse_rows(int(info.get("features") or 0), limits)
        gdf = pyogrio.read_dataframe(src, layer=use)
    except ImportRefusedError:
        raise
    except Exception as exc:  # GDAL reports every unreadable file through its own errors
        raise ImportRefusedError(f"the file cannot be read as {p.suffix} geodata: {exc}",
                                 f"无法按 {p.suffix} 地理数据读取：{exc}") from None
    if gdf.empty:
        raise ImportRefusedError("the file has no features", "文件中没有要素")
    geoms = gdf.geometry.to_numpy()
    kinds = shapely.get_type_id(geoms)
    single = (kinds == 4) & (shapely.get_num_geometries(geoms) == 1)
    geoms = np.where(single, shapely.get_geometry(geoms, 0), geoms)
    kinds = shapely.get_type_id(geoms)
    is_point = kinds == 0
    if not is_point.any():
        found = sorted(set(shapely.get_type_id(gdf.geometry.to_numpy()).tolist()))
        labels = ", ".join(_GEOM_NAMES.get(t, "empty") for t in found)
        raise ImportRefusedError(f"the features are not points (found {labels}); stations must "
                                 "be points", f"要素不是点（发现 {labels}）；站点必须是点")
    x = np.where(is_point, shapely.get_x(np.where(is_point, geoms, None)), np.nan)
    y = np.where(is_point, shapely.get_y(np.where(is_point, geoms, None)), np.nan)
    attrs = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
    frame = attrs.astype(object).map(_cell_text) if len(attrs.columns) else attrs
    names = np.array([_GEOM_NAMES.get(int(t), "empty") for t in kinds], dtype=object)
    return RawTable(frame.reset_index(drop=True), np.arange(1, len(gdf) + 1), "vector",
                    sheet=use, x=x.astype(float), y=y.astype(float), geom_type=names,
                    file_crs=gdf.crs)


_GEOM_NAMES = {0: "Point", 1: "LineString", 2: "LinearRing", 3: "Polygon", 4: "MultiPoint",
               5: "MultiLineString", 6: "MultiPolygon", 7: "GeometryCollection"}


def _check_cells(table: RawTable, limits: Limits) -> None:
    for col in table.frame.columns:
        lengths = table.frame[col].astype(str).str.len().to_numpy()
        if lengths.size and lengths.max() > limits.max_cell:
            i = int(lengths.argmax())
            raise ImportRefusedError(
                f"row {table.rows[i]}, column {col!r} holds {int(lengths[i]):,} characters "
                f"(limit {limits.max_cell:,}); this is not a station list",
                f"第 {table.rows[i]} 行“{col}”列有 {int(lengths[i]):,} 个字符（上限 "
                f"{limits.max_cell:,}），不像站点名录", column=str(col))
