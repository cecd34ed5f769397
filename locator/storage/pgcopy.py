"""Station rows to and from PostgreSQL ``COPY`` in CSV, whole columns at a time.

Writing goes through Arrow's CSV writer, which quotes every string and leaves
nulls unquoted and empty: exactly how PostgreSQL's CSV format tells an empty
string from NULL. Points travel as hex EWKB (SRID 4326) packed by numpy, so no
Python runs per row in either direction.
"""

from __future__ import annotations

import io

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import shapely

from locator.domain import schema
from locator.storage import base

BOOL = ("demo", "approximate")
TEXT = tuple(c for c in schema.FIELDS if c not in BOOL)
# What a NULL reads as in a COPY out, so that an empty string stays one.
NULL = r"\N"
COLUMNS = ("version", *schema.FIELDS, base.HASH, base.MODIFIED_AT, "geom")

# Little-endian EWKB of a point with an SRID: byte order, type | SRID flag, SRID, x, y.
_EWKB = np.dtype([("order", "u1"), ("type", "<u4"), ("srid", "<u4"), ("x", "<f8"),
                  ("y", "<f8")])
_EWKB_POINT_SRID = 0x20000001


def ewkb_hex(geometry: np.ndarray, srid: int = 4326) -> pa.Array:
    """Hex EWKB of each point, as one Arrow string array built without a Python loop."""
    n = len(geometry)
    rec = np.zeros(n, dtype=_EWKB)
    rec["order"], rec["type"], rec["srid"] = 1, _EWKB_POINT_SRID, srid
    rec["x"], rec["y"] = shapely.get_x(geometry), shapely.get_y(geometry)
    text = rec.tobytes().hex().upper().encode("ascii")
    width = 2 * _EWKB.itemsize
    offsets = np.arange(n + 1, dtype=np.int64) * width
    return pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(text))


def _text(values: pd.Series) -> pa.Array:
    try:
        return pa.Array.from_pandas(values, type=pa.large_string())
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # odd cell types: write what str() says
        obj = values.astype(object)
        return pa.Array.from_pandas(obj.where(obj.isna(), obj.astype(str)),
                                    type=pa.large_string())


def to_csv(frame: gpd.GeoDataFrame, version: str) -> bytes:
    """``frame`` (stamped with hash and ``modified_at``) as COPY CSV in :data:`COLUMNS` order."""
    n = len(frame)
    arrays = [pa.array(np.full(n, version, dtype=object), pa.large_string())]
    for c in schema.FIELDS:
        arrays.append(pa.Array.from_pandas(frame[c].astype(bool)) if c in BOOL
                      else _text(frame[c]))
    arrays.append(pa.array(frame[base.HASH].to_numpy(np.int64)))
    stamps = pd.to_datetime(frame[base.MODIFIED_AT], utc=True).astype("datetime64[us, UTC]")
    arrays.append(pa.Array.from_pandas(stamps))
    arrays.append(ewkb_hex(np.asarray(frame.geometry.array, dtype=object)))
    buf = io.BytesIO()
    pacsv.write_csv(pa.Table.from_arrays(arrays, names=list(COLUMNS)), buf,
                    pacsv.WriteOptions(include_header=False))
    return buf.getvalue()


def copy_in_sql(table: str) -> str:
    names = ", ".join(f'"{c}"' for c in COLUMNS)
    return f"COPY {table} ({names}) FROM STDIN WITH (FORMAT csv)"


def read_stations(data: io.BytesIO) -> gpd.GeoDataFrame:
    """Parse a ``COPY ... TO STDOUT (FORMAT csv, HEADER)`` of the stations with x, y
    (and their hash and ``modified_at``)."""
    df = pd.read_csv(data, dtype=dict.fromkeys(TEXT, "string"), keep_default_na=False,
                     na_values={c: [NULL] for c in TEXT})
    for c in TEXT:
        df[c] = df[c].astype(object).where(df[c].notna(), None)
    for c in BOOL:
        df[c] = df[c].astype(str).str.lower().isin(("t", "true"))
    # PostgreSQL leaves out a zero fraction of a second, so one column mixes two layouts.
    df[base.MODIFIED_AT] = pd.to_datetime(df[base.MODIFIED_AT], utc=True, format="ISO8601")
    geom = gpd.points_from_xy(df.pop("x").to_numpy(float), df.pop("y").to_numpy(float))
    return gpd.GeoDataFrame(df, geometry=geom, crs="EPSG:4326")


def read_stamps(data: io.BytesIO) -> pd.DataFrame:
    """Parse a CSV ``COPY`` of ``id, content_hash, modified_at``."""
    df = pd.read_csv(data, dtype={"id": "string", base.HASH: "int64",
                                  base.MODIFIED_AT: "string"}, keep_default_na=False)
    df[base.MODIFIED_AT] = pd.to_datetime(df[base.MODIFIED_AT], utc=True, format="ISO8601")
    return df
