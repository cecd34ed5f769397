"""Henan's administrative boundaries and point-in-county assignment."""

from __future__ import annotations

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
def _service_area(boundaries_dir: str | Path) -> Any:
    import shapely

    area = province(str(boundaries_dir)).geometry.union_all()
    shapely.prepare(area)
    return area


def in_service_area(lon: float, lat: float, boundaries_dir: str | Path) -> bool:
    """Whether a WGS-84 point lies in Henan, the area the service covers."""
    import shapely

    return bool(shapely.contains_xy(_service_area(str(boundaries_dir)), lon, lat))


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
