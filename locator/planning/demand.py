"""Demand layers: how many people (or workers, or trips) sit in each grid cell.

Four sources are read, all turned into one ``float64`` weight per grid cell:

``county table``
    CSV with ``adcode`` and a count column (``pop2020``, ``population``,
    ``pop``, ``count`` or ``weight``). Each county's count is spread
    uniformly over the grid cells whose centres lie inside that county.
``points``
    CSV with ``lon``, ``lat`` (WGS-84) and ``weight``: each point adds its
    weight to the cell that contains it.
``polygons``
    GeoJSON / GeoPackage / Shapefile with a count column: each polygon's count
    is spread uniformly over the cells whose centres it contains; a polygon
    too small to contain a centre puts its count in the cell under its
    representative point.
``raster``
    GeoTIFF of counts per pixel (e.g. a population raster): each pixel's value
    goes to the cell under the pixel centre; pixels coarser than half a cell
    are first split into equal sub-pixels so their count is not dumped in one
    cell.

Any problem with the input raises a 400 :class:`~locator.errors.LocatorError`
naming the ``demand`` field.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from locator.errors import LocatorError, invalid
from locator.planning.grid import Grid, to_metric

FIELD = "demand"
COUNT_COLUMNS = ("pop2020", "population", "pop", "count", "weight", "people")
VECTOR_SUFFIXES = (".geojson", ".json", ".gpkg", ".shp")
RASTER_SUFFIXES = (".tif", ".tiff")


@dataclass(frozen=True)
class Demand:
    """Weights per grid cell plus what was read and what was dropped."""

    name: str
    source: str
    weights: np.ndarray
    total_read: float
    dropped: float

    @property
    def total(self) -> float:
        return float(self.weights.sum())


def _bad(msg: str) -> LocatorError:
    return invalid(FIELD, msg)


def _count_column(columns: pd.Index, column: str | None, path: Path) -> str:
    if column is not None:
        if column not in columns:
            raise _bad(f"{path.name}: no column {column!r}; columns are {', '.join(columns)}")
        return column
    for name in COUNT_COLUMNS:
        if name in columns:
            return name
    raise _bad(f"{path.name}: needs a count column, one of {', '.join(COUNT_COLUMNS)}")


def _numbers(series: pd.Series, what: str, path: Path, *,
             allow_negative: bool = False) -> np.ndarray:
    vals = pd.to_numeric(series, errors="coerce").to_numpy(float)
    bad = ~np.isfinite(vals)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise _bad(f"{path.name}: {what} must be a finite number (row {first + 1}: "
                   f"{series.iloc[first]!r})")
    if not allow_negative and (vals < 0).any():
        first = int(np.flatnonzero(vals < 0)[0])
        raise _bad(f"{path.name}: {what} must not be negative (row {first + 1})")
    return vals


def spread_by_region(grid: Grid, region_of_value: np.ndarray, values: np.ndarray
                     ) -> np.ndarray:
    """Spread each region's value uniformly over the cells of that region."""
    n_reg = len(grid.regions)
    cells_per = np.bincount(grid.region, minlength=n_reg)
    per_region = np.bincount(region_of_value, weights=values, minlength=n_reg)
    density = np.divide(per_region, cells_per, out=np.zeros(n_reg), where=cells_per > 0)
    return density[grid.region]


def county_table(grid: Grid, path: Path, *, column: str | None = None) -> Demand:
    """People per county adcode, spread uniformly over each county's cells."""
    try:
        df = pd.read_csv(path, dtype={"adcode": str})
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise _bad(f"{path.name}: not a readable CSV ({exc})") from None
    if "adcode" not in df.columns:
        raise _bad(f"{path.name}: a county table needs an 'adcode' column")
    col = _count_column(df.columns, column, path)
    vals = _numbers(df[col], col, path)
    codes = df["adcode"].astype(str).str.strip().str.replace(r"\.0$", "", regex=True)
    lookup = pd.Series(np.arange(len(grid.regions)),
                       index=grid.regions["county_adcode"].astype(str))
    lookup = lookup[~lookup.index.duplicated()]
    reg = codes.map(lookup)
    unknown = codes[reg.isna()]
    if len(unknown):
        raise _bad(f"{path.name}: unknown county adcode(s) {', '.join(unknown.head(5))}")
    if codes.duplicated().any():
        raise _bad(f"{path.name}: adcode {codes[codes.duplicated()].iloc[0]} appears twice")
    weights = spread_by_region(grid, reg.to_numpy(np.int64), vals)
    return Demand(path.stem, "county_table", weights, float(vals.sum()),
                  float(vals.sum() - weights.sum()))


def points(grid: Grid, path: Path) -> Demand:
    """Weighted WGS-84 points (CSV ``lon,lat,weight``) binned into cells."""
    try:
        df = pd.read_csv(path)
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise _bad(f"{path.name}: not a readable CSV ({exc})") from None
    missing = [c for c in ("lon", "lat", "weight") if c not in df.columns]
    if missing:
        raise _bad(f"{path.name}: a points table needs columns lon, lat, weight "
                   f"(missing {', '.join(missing)})")
    if df.empty:
        raise _bad(f"{path.name}: no rows")
    lon = _numbers(df["lon"], "lon", path, allow_negative=True)
    lat = _numbers(df["lat"], "lat", path, allow_negative=True)
    if (np.abs(lon) > 180).any() or (np.abs(lat) > 90).any():
        raise _bad(f"{path.name}: lon/lat out of range (are they in WGS-84 degrees?)")
    w = _numbers(df["weight"], "weight", path)
    return _bin(grid, path, "points", *to_metric(lon, lat), w)


def _bin(grid: Grid, path: Path, source: str, x: np.ndarray, y: np.ndarray,
         w: np.ndarray) -> Demand:
    pos = grid.locate(x, y)
    inside = pos >= 0
    if w.sum() > 0 and not (w[inside] > 0).any():
        raise _bad(f"{path.name}: no weight falls inside the planning area")
    weights = np.bincount(pos[inside], weights=w[inside], minlength=len(grid))
    return Demand(path.stem, source, weights, float(w.sum()), float(w[~inside].sum()))


def polygons(grid: Grid, path: Path, *, column: str | None = None) -> Demand:
    """Polygons with a count column, spread uniformly over the cells they hold."""
    from rasterio import features

    try:
        gdf = gpd.read_file(path)
    except Exception as exc:  # GDAL raises many types for unreadable files
        raise _bad(f"{path.name}: not a readable vector file ({type(exc).__name__})") from None
    if gdf.empty:
        raise _bad(f"{path.name}: no features")
    if gdf.crs is None:
        raise _bad(f"{path.name}: the layer has no CRS")
    if not gdf.geom_type.isin(["Polygon", "MultiPolygon"]).all():
        raise _bad(f"{path.name}: every feature must be a polygon")
    col = _count_column(gdf.columns, column, path)
    vals = _numbers(gdf[col], col, path)
    geoms = gdf.geometry.to_crs(grid.crs).make_valid()
    burnt = features.rasterize(((g, i) for i, g in enumerate(geoms) if not g.is_empty),
                               out_shape=(grid.ny, grid.nx), transform=grid.transform,
                               fill=-1, dtype="int32").ravel()[grid.flat]
    inside = burnt >= 0
    n_poly = len(gdf)
    cells_per = np.bincount(burnt[inside], minlength=n_poly)
    density = np.divide(vals, cells_per, out=np.zeros(n_poly), where=cells_per > 0)
    weights = np.zeros(len(grid))
    weights[inside] = density[burnt[inside]]
    tiny = np.flatnonzero(cells_per == 0)
    dropped = 0.0
    if len(tiny):
        rep = geoms.iloc[tiny].representative_point()
        pos = grid.locate(rep.x.to_numpy(), rep.y.to_numpy())
        ok = pos >= 0
        np.add.at(weights, pos[ok], vals[tiny][ok])
        dropped = float(vals[tiny][~ok].sum())
    if vals.sum() > 0 and weights.sum() == 0:
        raise _bad(f"{path.name}: no polygon overlaps the planning area")
    return Demand(path.stem, "polygons", weights, float(vals.sum()), dropped)


def raster(grid: Grid, path: Path, *, band: int = 1) -> Demand:
    """A GeoTIFF of counts per pixel, binned into cells by pixel centre."""
    import rasterio
    from rasterio.errors import RasterioIOError
    from rasterio.windows import Window

    try:
        src = rasterio.open(path)
    except RasterioIOError:
        raise _bad(f"{path.name}: not a readable GeoTIFF") from None
    with src:
        if src.crs is None:
            raise _bad(f"{path.name}: the raster has no CRS")
        if band > src.count:
            raise _bad(f"{path.name}: no band {band}")
        sub = _subdivision(src, grid.cell)
        weights = np.zeros(len(grid))
        total = dropped = 0.0
        step = max(1, 2_000_000 // max(src.width, 1))
        to_grid = _crs_transformer(src.crs.to_wkt(), grid.crs)
        offs = (np.arange(sub) + 0.5) / sub
        for r0 in range(0, src.height, step):
            h = min(step, src.height - r0)
            data = src.read(band, window=Window(0, r0, src.width, h), masked=True)
            vals = np.ma.filled(data.astype(float), 0.0)
            vals[~np.isfinite(vals)] = 0.0
            if (vals < 0).any():
                raise _bad(f"{path.name}: negative pixel values")
            rr, cc = np.nonzero(vals > 0)
            if not len(rr):
                continue
            v = vals[rr, cc] / (sub * sub)
            fc = np.tile(cc[:, None] + offs[None, :], (1, sub)).ravel()
            fr = np.repeat(rr[:, None] + r0 + offs[None, :], sub, axis=1).ravel()
            px, py = src.transform * (fc, fr)
            x, y = to_grid.transform(np.asarray(px), np.asarray(py))
            pos = grid.locate(np.asarray(x), np.asarray(y))
            w = np.repeat(v, sub * sub)
            ok = pos >= 0
            weights += np.bincount(pos[ok], weights=w[ok], minlength=len(grid))
            total += float(w.sum())
            dropped += float(w[~ok].sum())
    if total > 0 and weights.sum() == 0:
        raise _bad(f"{path.name}: the raster does not overlap the planning area")
    return Demand(path.stem, "raster", weights, total, dropped)


def _crs_transformer(src_wkt: str, dst: str) -> Any:
    from pyproj import Transformer

    return Transformer.from_crs(src_wkt, dst, always_xy=True)


def _subdivision(src: object, cell: float) -> int:
    """Sub-pixels per side so that each piece is at most half a grid cell."""
    from pyproj import Transformer

    t = src.transform  # type: ignore[attr-defined]
    cx, cy = t * (src.width / 2, src.height / 2)  # type: ignore[attr-defined]
    tr = Transformer.from_crs(src.crs, "EPSG:4547", always_xy=True)  # type: ignore[attr-defined]
    x0, y0 = tr.transform(cx, cy)
    x1, y1 = tr.transform(cx + t.a, cy + t.e)
    size = max(abs(x1 - x0), abs(y1 - y0))
    return int(min(8, max(1, math.ceil(2 * size / cell))))


def load(grid: Grid, path: str | Path, *, column: str | None = None) -> Demand:
    """Read a demand layer of any supported kind, chosen by suffix and columns."""
    p = Path(path)
    if not p.is_file():
        raise _bad(f"demand file not found: {p.name}")
    suffix = p.suffix.lower()
    if suffix == ".csv":
        try:
            header = pd.read_csv(p, nrows=0).columns
        except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
            raise _bad(f"{p.name}: not a readable CSV ({exc})") from None
        if "adcode" in header:
            return county_table(grid, p, column=column)
        return points(grid, p)
    if suffix in VECTOR_SUFFIXES:
        return polygons(grid, p, column=column)
    if suffix in RASTER_SUFFIXES:
        return raster(grid, p)
    raise _bad(f"{p.name}: unsupported demand file; use .csv, "
               f"{', '.join(VECTOR_SUFFIXES)} or {', '.join(RASTER_SUFFIXES)}")
