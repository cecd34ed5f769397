"""Station rows to and from PostgreSQL ``COPY`` in CSV, whole columns at a time.

Writing goes through Arrow's CSV writer, which quotes every string and leaves
nulls unquoted and empty: exactly how PostgreSQL's CSV format tells an empty
string from NULL. Points travel as hex EWKB (SRID 4326) packed by numpy, so no
Python runs per row in either direction.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import shapely
import sqlalchemy as sa

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
    # Arrow's parser, on all cores: pandas' took 16 s of a million-row load, Arrow's 3.
    # Only an unquoted \N is NULL; a quoted one is that text, as PostgreSQL wrote it.
    types = {**dict.fromkeys((*TEXT, *BOOL, base.MODIFIED_AT), pa.string()),
             base.HASH: pa.int64(), "x": pa.float64(), "y": pa.float64()}
    table = pacsv.read_csv(data, convert_options=pacsv.ConvertOptions(
        column_types=types, null_values=[NULL], strings_can_be_null=True,
        quoted_strings_can_be_null=False))
    # Text straight to Python strings (None for NULL): what the normalised frame holds.
    text = {c: table.column(c).to_numpy(zero_copy_only=False) for c in TEXT}
    df = table.drop_columns(list(TEXT)).to_pandas()
    for c in TEXT:
        df[c] = pd.Series(text[c], index=df.index, dtype=object)
    df = df[table.column_names]
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


@contextlib.contextmanager
def long_transaction(engine: sa.Engine) -> Iterator[Any]:
    """A psycopg cursor in one transaction without the statement timeout, which is
    for short statements: committed if the block ends normally, else rolled back."""
    raw = engine.raw_connection()
    try:
        with raw.cursor() as cur:  # type: ignore[attr-defined]
            cur.execute("SET LOCAL statement_timeout = 0")
            yield cur
        raw.commit()
    except BaseException:
        raw.rollback()
        raise
    finally:
        raw.close()
