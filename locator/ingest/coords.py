"""Coordinates on the way in: numbers or DMS text, swapped axes, datums, the region.

Everything here works on whole columns. Text that is not a plain number (DMS
such as ``113°39'27"``) is parsed once per distinct value.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely

from locator.geo import datum, regions

_DMS = re.compile(
    r"^\s*([NSEW东西南北])?\s*(\d+(?:\.\d+)?)\s*(?:°|度|d|\s)\s*"
    r"(?:(\d+(?:\.\d+)?)\s*(?:'|′|’|分|m|\s)\s*)?"
    r"(?:(\d+(?:\.\d+)?)\s*(?:\"|″|”|''|′′|秒|s)?\s*)?([NSEW东西南北])?\s*$",
    re.IGNORECASE)
_NEGATIVE = {"S", "W", "南", "西", "s", "w"}


def parse_dms(text: str) -> float | None:
    """Degrees from ``113°39'27"``, ``113度39分27秒``, ``N34°45'``; None if not one."""
    t = unicodedata.normalize("NFKC", text).strip()
    m = _DMS.match(t)
    if not m or not any(s in t for s in "°度'′\"″分秒dD "):
        return None
    deg = float(m.group(2))
    minutes = float(m.group(3) or 0)
    seconds = float(m.group(4) or 0)
    if minutes >= 60 or seconds >= 60:
        return None
    value = deg + minutes / 60 + seconds / 3600
    hemi = m.group(1) or m.group(5)
    return -value if hemi in _NEGATIVE else value


def parse_column(values: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Numbers from a text column.

    Returns ``(value, missing, unreadable)``: NaN where there is no number,
    ``missing`` where the cell was blank, ``unreadable`` where it held text
    that is neither a number nor DMS.
    """
    text = values.astype(str).str.strip()
    missing = (text == "").to_numpy() | values.isna().to_numpy()
    num = np.array(pd.to_numeric(text.str.replace("，", ".", regex=False), errors="coerce"),
                   dtype=float)
    other = np.isnan(num) & ~missing
    if other.any():
        uniq = pd.unique(text[other])
        parsed = {u: parse_dms(str(u)) for u in uniq}
        got = text[other].map(parsed).to_numpy(dtype=float, na_value=np.nan)
        num[other] = got
    unreadable = np.isnan(num) & ~missing
    return num, missing, unreadable


def split_pairs(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """A combined ``"113.66,34.75"`` column -> two text columns."""
    parts = values.astype(str).str.strip().str.split(r"\s*[,，;；/]\s*|\s+", n=1, regex=True,
                                                     expand=True)
    if parts.shape[1] < 2:
        parts[1] = ""
    return parts[0].fillna(""), parts[1].fillna("")


def fix_swapped(lon: np.ndarray, lat: np.ndarray,
                bbox: tuple[float, float, float, float]) -> tuple[np.ndarray, np.ndarray,
                                                                  np.ndarray]:
    """Swap back pairs whose longitude lies in the region's latitude range and the
    other way round; returns (lon, lat, swapped mask)."""
    w, s, e, n = bbox
    pad = 1.0  # a GCJ/BD offset or a border town must not defeat the test
    swapped = ((lon >= s - pad) & (lon <= n + pad) & (lat >= w - pad) & (lat <= e + pad)
               & ~((lon >= w - pad) & (lon <= e + pad)))
    return np.where(swapped, lat, lon), np.where(swapped, lon, lat), swapped


def to_wgs84(lon: np.ndarray, lat: np.ndarray, crs: Any) -> tuple[np.ndarray, np.ndarray]:
    """Convert from a Chinese datum name, ``EPSG:n`` or a pyproj CRS to WGS-84 lon/lat."""
    key = crs.strip().lower() if isinstance(crs, str) else None
    if key is None or key.startswith("epsg:"):
        from pyproj import CRS, Transformer

        src = CRS.from_user_input(crs.upper() if isinstance(crs, str) else crs)
        tr = Transformer.from_crs(src, "EPSG:4326", always_xy=True)
        x, y = tr.transform(lon, lat)
        return np.asarray(x, float), np.asarray(y, float)
    x, y = datum.to_wgs84(lon, lat, key)
    return np.asarray(x, float), np.asarray(y, float)


def check_crs(crs: str) -> str:
    """Validate ``--crs``; raises ValueError naming what is accepted."""
    key = crs.strip().lower()
    if key in ("wgs84", "gcj02", "bd09", "cgcs2000"):
        return key
    if key.startswith("epsg:"):
        from pyproj import CRS
        from pyproj.exceptions import CRSError

        try:
            CRS.from_user_input(crs.upper())
        except CRSError:
            msg = f"unknown coordinate system {crs!r}"
            raise ValueError(msg) from None
        return crs.upper()
    msg = f"unknown coordinate system {crs!r}; use wgs84, gcj02, bd09, cgcs2000 or EPSG:n"
    raise ValueError(msg)


@dataclass(frozen=True)
class Region:
    """The province polygon that imported points must fall in."""

    geometry: shapely.Geometry
    bbox: tuple[float, float, float, float]

    def contains(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        ok = np.isfinite(lon) & np.isfinite(lat)
        out = np.zeros(len(lon), dtype=bool)
        out[ok] = shapely.contains_xy(self.geometry, lon[ok], lat[ok])
        return out


def region(boundaries_dir: str | Path) -> Region:
    geom = shapely.union_all(regions.province(str(boundaries_dir)).geometry.to_numpy())
    shapely.prepare(geom)
    b = shapely.bounds(geom)
    return Region(geom, (float(b[0]), float(b[1]), float(b[2]), float(b[3])))
