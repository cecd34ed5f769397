"""Export the stations as GeoJSON, CSV, GeoPackage or XLSX, in WGS-84, GCJ-02 or BD-09.

Every export can be imported again and gives back the same stations: the
coordinate columns are named after their datum (``lon_gcj02``/``lat_gcj02``),
vector files carry a ``datum`` attribute, and ids, sources and codes are kept.

Spreadsheet safety: in CSV and XLSX, a text cell that begins with ``=``, ``+``,
``-`` or ``@`` (or a tab or carriage return) gets a leading apostrophe so that
Excel and WPS show it as text instead of running it as a formula. Numbers,
negative ones included, are written as numbers and left alone. The importer
removes that apostrophe again.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import orjson
import pandas as pd
import pyogrio

from locator.domain import schema
from locator.domain.spreadsheet import neutralise_text
from locator.geo import datum
from locator.progress import chunks

FORMATS = ("geojson", "csv", "gpkg", "xlsx")
MEDIA = {"geojson": "application/geo+json", "csv": "text/csv; charset=utf-8",
         "gpkg": "application/geopackage+sqlite3",
         "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
_CHUNK = 20_000
# The feedback flags, when the caller joined them to the frame (see living.flagcols):
# the reasons of open reports, ``;``-joined like amenities, and the newest check.
FEEDBACK = ("reported", "last_verified")


def table(frame: gpd.GeoDataFrame, crs: str = "wgs84") -> pd.DataFrame:
    """The stations as a flat table with ``lon_<crs>``/``lat_<crs>`` columns."""
    name = datum.normalize_crs(crs)
    lon, lat = datum.from_wgs84(frame.geometry.x.to_numpy(float),
                                frame.geometry.y.to_numpy(float), name)
    cols = [c for c in (*schema.FIELDS, *FEEDBACK) if c in frame.columns]
    out = pd.DataFrame(frame[cols]).copy()
    pos = cols.index("address") + 1 if "address" in cols else len(cols)
    out.insert(pos, f"lon_{name}", np.round(np.asarray(lon, float), 7))
    out.insert(pos + 1, f"lat_{name}", np.round(np.asarray(lat, float), 7))
    return out.reset_index(drop=True)


def _plain(value: Any) -> Any:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


def geojson_bytes(frame: gpd.GeoDataFrame, crs: str = "wgs84") -> bytes:
    return b"".join(geojson_chunks(frame, crs))


def geojson_chunks(frame: gpd.GeoDataFrame, crs: str = "wgs84") -> Iterator[bytes]:
    """The FeatureCollection in pieces of ``_CHUNK`` features, for streaming.

    Joined, the pieces are the same bytes as one ``orjson.dumps`` of the whole
    collection; only one chunk's features are in memory at a time.
    """
    name = datum.normalize_crs(crs)
    yield orjson.dumps({"type": "FeatureCollection", "datum": name})[:-1] + b',"features":['
    for start in range(0, len(frame), _CHUNK):
        t = table(frame.iloc[start:start + _CHUNK], name)
        lon = t.pop(f"lon_{name}").to_numpy()
        lat = t.pop(f"lat_{name}").to_numpy()
        props = t.astype(object).where(t.notna(), None).to_dict("records")
        feats = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [x, y]},
                  "properties": {**p, "amenities": p.get("amenities") or "", "datum": name}}
                 for x, y, p in zip(lon.tolist(), lat.tolist(), props, strict=True)]
        # Strip the list's brackets: chunks join into one array.
        piece = orjson.dumps(feats, option=orjson.OPT_SERIALIZE_NUMPY)[1:-1]
        yield (b"," if start else b"") + piece
    yield b"]}"


def csv_bytes(frame: gpd.GeoDataFrame, crs: str = "wgs84", *, progress: bool = False) -> bytes:
    """UTF-8 with a BOM, so that Excel opens the Chinese text correctly."""
    return b"".join(csv_chunks(frame, crs, progress=progress))


def csv_chunks(frame: gpd.GeoDataFrame, crs: str = "wgs84", *,
               progress: bool = False) -> Iterator[bytes]:
    """The CSV export in pieces of ``_CHUNK`` rows, for streaming."""
    name = datum.normalize_crs(crs)
    starts = range(0, max(len(frame), 1), _CHUNK)
    for i, start in enumerate(chunks(starts, total=len(starts), desc="export",
                                     enabled=progress)):
        t = _neutralised(table(frame.iloc[start:start + _CHUNK], name))
        buf = io.StringIO()
        if i == 0:
            buf.write("\ufeff")
        t.to_csv(buf, index=False, header=i == 0, lineterminator="\r\n")
        yield buf.getvalue().encode("utf-8")


def _neutralised(t: pd.DataFrame) -> pd.DataFrame:
    out = t.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = neutralise_text(out[col].astype(object).tolist())
    return out


def write(frame: gpd.GeoDataFrame, path: str | Path, *, fmt: str, crs: str = "wgs84",
          progress: bool = False) -> Path:
    """Write an export file; the format decides the layout (see module docs)."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    name = datum.normalize_crs(crs)
    if fmt == "geojson":
        p.write_bytes(geojson_bytes(frame, name))
    elif fmt == "csv":
        p.write_bytes(csv_bytes(frame, name, progress=progress))
    elif fmt == "gpkg":
        t = table(frame, name)
        lon, lat = t.pop(f"lon_{name}"), t.pop(f"lat_{name}")
        t["datum"] = name
        gdf = gpd.GeoDataFrame(t, geometry=gpd.points_from_xy(lon, lat),
                               crs="EPSG:4326" if name == "wgs84" else None)
        p.unlink(missing_ok=True)
        with warnings.catch_warnings():
            # GCJ-02/BD-09 have no EPSG code; the datum column says what they are.
            warnings.filterwarnings("ignore", message="'crs' was not provided")
            pyogrio.write_dataframe(gdf, p, layer="stations", driver="GPKG")
    elif fmt == "xlsx":
        _write_xlsx(table(frame, name), p, progress=progress)
    else:
        msg = f"unknown export format {fmt!r}; expected one of {', '.join(FORMATS)}"
        raise ValueError(msg)
    return p


def _write_xlsx(t: pd.DataFrame, path: Path, *, progress: bool) -> None:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("stations")
    ws.append(list(t.columns))
    rows = t.astype(object).where(t.notna(), None).itertuples(index=False, name=None)
    for row in chunks(rows, total=len(t), desc="export", enabled=progress):
        ws.append(neutralise_text([_plain(v) for v in row]))
    wb.save(path)
