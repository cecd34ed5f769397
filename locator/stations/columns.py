"""Station fields as columns: Arrow arrays (text, zero-copy) or NumPy arrays.

The helpers the :class:`~locator.stations.dataset.Dataset` uses to hold a
field per array and to read rows back out of them.
"""

from __future__ import annotations

from typing import Any, TypeAlias, cast

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from locator.domain import schema

# A field's values: Arrow for text read with Arrow (dictionary-encoded in a served
# snapshot where that is much smaller, see ``compact``), NumPy otherwise.
Column: TypeAlias = "pa.Array | np.ndarray"


def columns_of(f: gpd.GeoDataFrame) -> dict[str, Column]:
    """Each field as an Arrow array (text read with Arrow, shared, not copied)
    or a NumPy array with ``None`` for missing values."""
    out: dict[str, Column] = {}
    for c in schema.FIELDS:
        if c not in f.columns:
            continue
        s = f[c]
        if (isinstance(s.dtype, pd.StringDtype) and s.dtype.storage == "pyarrow") or \
                isinstance(s.dtype, pd.ArrowDtype):
            out[c] = pa.chunked_array(pa.array(s.array)).combine_chunks()
            continue
        arr: np.ndarray = s.to_numpy(dtype=object) if s.dtype == object else s.to_numpy()
        if arr.dtype == object:
            missing = np.asarray(pd.isna(arr), dtype=bool)
            if missing.any():
                arr = arr.copy()  # may be the frame's own buffer
                arr[missing] = None
        out[c] = arr
    return out


def take(col: Column, idx: np.ndarray | None) -> list[Any]:
    """The values at ``idx`` (all of them for None) as Python objects."""
    if isinstance(col, np.ndarray):
        return cast(list[Any], (col if idx is None else col[idx]).tolist())
    return cast(list[Any], (col if idx is None else col.take(pa.array(idx))).to_pylist())


def scalar(col: Column, row: int) -> Any:
    """The value at ``row`` as a Python object, as :func:`take` gives it."""
    if isinstance(col, np.ndarray):
        return col[row].item() if isinstance(col[row], np.generic) else col[row]
    return col[row].as_py()


def one_chunk(col: pa.ChunkedArray) -> pa.Array:
    return col.chunk(0) if col.num_chunks == 1 else col.combine_chunks()


def any_true(col: Column) -> bool:
    if isinstance(col, np.ndarray):
        return bool(np.any(col.astype(bool)))
    return bool(pc.any(col.fill_null(False)).as_py())


def to_arrow(col: Column) -> pa.Array:
    if isinstance(col, np.ndarray):
        return pa.array(col, from_pandas=True)
    return col


def compact(col: pa.Array) -> pa.Array:
    """``col`` dictionary-encoded if that at least halves it, else ``col`` itself.

    Station text repeats over many rows (kind, county, city, operator, source,
    opening hours, amenity lists, often names), and a served snapshot is
    copied to every host and mapped by every worker: fewer bytes there mean
    a faster start. The codes are the narrowest integers the values need.
    """
    if not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)) or not len(col):
        return col
    enc = pc.dictionary_encode(col)
    distinct = len(enc.dictionary)
    width = pa.int8() if distinct <= 127 else pa.int16() if distinct <= 32767 else pa.int32()
    enc = pa.DictionaryArray.from_arrays(enc.indices.cast(width), enc.dictionary)
    return enc if 2 * enc.nbytes <= col.nbytes else col


def plain(col: pa.Array) -> pa.Array:
    """``col`` with its values written out, if it is dictionary-encoded."""
    return col.dictionary_decode() if pa.types.is_dictionary(col.type) else col


def frame_of(columns: dict[str, Column], lon: np.ndarray, lat: np.ndarray
              ) -> gpd.GeoDataFrame:
    plain_cols = pa.table({k: plain(to_arrow(v)) for k, v in columns.items()}).to_pandas()
    return gpd.GeoDataFrame(plain_cols, geometry=gpd.points_from_xy(lon, lat),
                            crs="EPSG:4326")


def lookup_codes(column: pd.Series, table: dict[str, int], missing: int) -> np.ndarray:
    """Codes for a text column via its distinct values; unknown ones get ``missing``."""
    codes, uniques = pd.factorize(column, use_na_sentinel=True)
    lut = np.array([table.get(str(u), missing) for u in uniques] + [missing], dtype=np.int8)
    return lut[codes]  # code -1 (missing) picks the trailing entry


def factorize(col: Column) -> tuple[np.ndarray, list[Any]]:
    """Codes into the distinct values of ``col``; missing values get code ``-1``.

    Per-value rules (parsing a date, say) then run once per distinct value,
    without making a Python object per row of an Arrow column.
    """
    if isinstance(col, np.ndarray):
        codes, uniques = pd.factorize(col, use_na_sentinel=True)
        return np.asarray(codes, dtype=np.int64), list(uniques)
    enc = col if pa.types.is_dictionary(col.type) else pc.dictionary_encode(col)
    codes = enc.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    return codes, cast(list[Any], enc.dictionary.to_pylist())
