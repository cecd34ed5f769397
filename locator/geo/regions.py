"""Henan's administrative boundaries and point-in-county assignment."""

from __future__ import annotations

import math
import threading
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from locator import memo

COUNTY_FILE = "henan_county.geojson"
CITY_FILE = "henan_city.geojson"
PROVINCE_FILE = "henan_province.geojson"


@memo.cached
def counties(boundaries_dir: str | Path) -> gpd.GeoDataFrame:
    """The 157 county-level units: ``county_adcode``, ``county``, ``city``, ``city_adcode``."""
    gdf = gpd.read_file(Path(boundaries_dir) / COUNTY_FILE)
    out = gpd.GeoDataFrame(
        {
            "county_adcode": gdf["district_adcode"].astype(int).astype(str),
            "county": gdf["district_name"].astype(str),
            "city": gdf["city_name"].astype(str),
            "city_adcode": gdf["city_adcode"].astype(int).astype(str),
            "label_lon": gdf["lon"].astype(float),
            "label_lat": gdf["lat"].astype(float),
        },
        geometry=gdf.geometry.make_valid(),
        crs="EPSG:4326",
    )
    return out


@memo.cached
def bounds(boundaries_dir: str | Path) -> tuple[float, float, float, float]:
    """``(minlon, minlat, maxlon, maxlat)`` of the counties, rounded outward to 6 decimals.

    The API documents a point's bounds with these numbers and checks them with the
    same ones, so that a value on the documented edge is also inside on the server.
    """
    west, south, east, north = counties(str(boundaries_dir)).total_bounds
    scale = 1e6
    return (float(np.floor(west * scale) / scale), float(np.floor(south * scale) / scale),
            float(np.ceil(east * scale) / scale), float(np.ceil(north * scale) / scale))


@memo.cached
def cities(boundaries_dir: str | Path) -> gpd.GeoDataFrame:
    gdf = gpd.read_file(Path(boundaries_dir) / CITY_FILE)
    return gpd.GeoDataFrame(
        {"city_adcode": gdf["city_adcode"].astype(int).astype(str),
         "city": gdf["city_name"].astype(str)},
        geometry=gdf.geometry.make_valid(), crs="EPSG:4326",
    )


@memo.cached
def province(boundaries_dir: str | Path) -> gpd.GeoDataFrame:
    gdf = gpd.read_file(Path(boundaries_dir) / PROVINCE_FILE)
    return gpd.GeoDataFrame({"name": ["河南省"]}, geometry=gdf.geometry.make_valid(),
                            crs="EPSG:4326")


@memo.cached
def _service_area(boundaries_dir: str | Path) -> _Area:
    return _Area(province(str(boundaries_dir)).geometry.union_all())


# Cells of this many degrees (about 5 km) remember whether they lie wholly
# inside or wholly outside the province, so that most points need no
# point-in-polygon test against its outline of many thousand vertices.
CELL_DEG = 0.05
_MAX_CELLS = 100_000


class _Area:
    def __init__(self, geom: Any) -> None:
        import shapely

        shapely.prepare(geom)
        self.geom = geom
        self.cells: dict[tuple[int, int], bool | None] = {}
        # A prepared GEOS geometry is not thread-safe: its indexes and intersection
        # state change as it is used, and shapely releases the GIL around GEOS, so
        # request threads testing it at once crash the process. One at a time;
        # most points are answered from the cells without it.
        self._geos = threading.Lock()

    def contains(self, lon: float, lat: float) -> bool:
        import shapely

        key = (math.floor(lon / CELL_DEG), math.floor(lat / CELL_DEG))
        whole = self.cells.get(key, _UNSEEN)
        if whole is _UNSEEN:
            x, y = key[0] * CELL_DEG, key[1] * CELL_DEG
            cell = shapely.box(x, y, x + CELL_DEG, y + CELL_DEG)
            # None: the outline crosses the cell, so its points are tested one by one.
            with self._geos:
                whole = True if shapely.contains_properly(self.geom, cell) else \
                    False if not shapely.intersects(self.geom, cell) else None
            if len(self.cells) >= _MAX_CELLS:
                self.cells.clear()
            self.cells[key] = whole
        if whole is not None:
            return bool(whole)
        with self._geos:
            return bool(shapely.contains_xy(self.geom, lon, lat))


_UNSEEN = object()


def in_service_area(lon: float, lat: float, boundaries_dir: str | Path) -> bool:
    """Whether a WGS-84 point lies in Henan, the area the service covers."""
    return _service_area(str(boundaries_dir)).contains(lon, lat)


def assign_counties(
    lon: np.ndarray, lat: np.ndarray, boundaries_dir: str | Path
) -> pd.DataFrame:
    """County of each point from the county polygons (never from address text).

    Returns a frame aligned with the input holding ``county_adcode``, ``county``
    and ``city``; points outside every county get missing values.
    """
    cty = counties(boundaries_dir)
    pts = gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs="EPSG:4326")
    # Index query instead of a row loop: one STRtree pass over all points.
    pi, ci = cty.sindex.query(pts, predicate="intersects")
    out = pd.DataFrame(
        {"county_adcode": pd.Series([None] * len(pts), dtype=object),
         "county": pd.Series([None] * len(pts), dtype=object),
         "city": pd.Series([None] * len(pts), dtype=object)}
    )
    # A point on a shared border matches two counties; keep the first match.
    first = ~pd.Series(pi).duplicated().to_numpy()
    pi, ci = pi[first], ci[first]
    for col in ("county_adcode", "county", "city"):
        out.loc[pi, col] = cty[col].to_numpy()[ci]
    return out


PROVINCE_ADCODE = "410000"


@memo.cached
def scopes(boundaries_dir: str | Path) -> pd.DataFrame:
    """Every area a run can be limited to: the province, each city, each county.

    Columns ``adcode``, ``level`` (``province``, ``city`` or ``county``), ``name``
    (the full name, e.g. ``郑州市 金水区``) and ``city_adcode``, in the order a
    select lists them: the province, then each city followed by its counties.
    A city with one county of the same code (济源市) is listed once, as a city.
    """
    cty = counties(str(boundaries_dir))
    city = (cty.groupby(["city_adcode", "city"], as_index=False, sort=True).size()
            .drop(columns="size"))
    rows = pd.concat([
        pd.DataFrame({"adcode": city["city_adcode"], "level": "city", "name": city["city"],
                      "city_adcode": city["city_adcode"], "order": 0}),
        pd.DataFrame({"adcode": cty["county_adcode"], "level": "county",
                      "name": cty["city"] + " " + cty["county"],
                      "city_adcode": cty["city_adcode"], "order": 1}),
    ], ignore_index=True)
    rows = rows.drop_duplicates("adcode", keep="first")
    rows = rows.sort_values(["city_adcode", "order", "adcode"], kind="stable")
    head = pd.DataFrame({"adcode": [PROVINCE_ADCODE], "level": ["province"], "name": ["河南省"],
                         "city_adcode": [""], "order": [0]})
    return pd.concat([head, rows], ignore_index=True).drop(columns="order")


def scope_rows(boundaries_dir: str | Path, adcode: str) -> np.ndarray:
    """Rows of :func:`counties` inside the area ``adcode`` (all of them for the province).

    Raises ``KeyError`` for a code that names no Henan city or county.
    """
    cty = counties(str(boundaries_dir))
    if adcode in ("", PROVINCE_ADCODE):
        return np.arange(len(cty))
    hit = ((cty["county_adcode"] == adcode) | (cty["city_adcode"] == adcode)).to_numpy()
    if not hit.any():
        raise KeyError(adcode)
    return np.flatnonzero(hit)


def scope_name(boundaries_dir: str | Path, adcode: str) -> str:
    """The readable name of an area (``河南省`` for the whole province)."""
    if adcode in ("", PROVINCE_ADCODE):
        return "河南省"
    table = scopes(str(boundaries_dir))
    hit = table.loc[table["adcode"] == adcode, "name"]
    if not len(hit):
        raise KeyError(adcode)
    return str(hit.iloc[0])
