"""A regular square grid over the planning regions, in a metric CRS.

Every coverage, demand and siting computation works on the centres of the
grid's cells. A cell belongs to the region that contains its centre (the
cell-centre rule of raster burning), so a region of area ``A`` holds about
``A / cell**2`` cells and the share of its cells that are covered estimates the
share of its area that is covered. The estimate converges to the exact share as
the cell shrinks; ``docs/coverage.md`` gives measured errors at 500 m.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import Transformer

from locator import memo
from locator.geo import regions
from locator.geo.datum import METRIC_CRS

if TYPE_CHECKING:
    from rasterio.transform import Affine

REGION_COLUMNS = ("county_adcode", "county", "city_adcode", "city")


# The operations Transformer.from_crs(..., always_xy=True) picks between WGS-84 and the
# metric CRS. Made from these, a transformer skips PROJ's search of its database,
# about 0.1 s per direction that every new process paid on its first planning run;
# tests/test_gridfile.py checks that PROJ still picks exactly these.
PIPELINES = {
    ("EPSG:4326", METRIC_CRS): "proj=pipeline step proj=unitconvert xy_in=deg xy_out=rad "
                               "step proj=tmerc lat_0=0 lon_0=114 k=1 x_0=500000 y_0=0 "
                               "ellps=GRS80",
    (METRIC_CRS, "EPSG:4326"): "proj=pipeline step inv proj=tmerc lat_0=0 lon_0=114 k=1 "
                               "x_0=500000 y_0=0 ellps=GRS80 step proj=unitconvert "
                               "xy_in=rad xy_out=deg",
}


# A projection object, no data: kept per CRS pair.
@lru_cache(maxsize=8)
def _transformer(src: str, dst: str) -> Transformer:
    pipeline = PIPELINES.get((src, dst))
    if pipeline is not None:
        return Transformer.from_pipeline(pipeline)
    return Transformer.from_crs(src, dst, always_xy=True)


def to_metric(lon: np.ndarray, lat: np.ndarray, crs: str = METRIC_CRS) -> tuple[np.ndarray,
                                                                                  np.ndarray]:
    """WGS-84 longitude/latitude to metric x/y (vectorised)."""
    x, y = _transformer("EPSG:4326", crs).transform(np.asarray(lon, float),
                                                     np.asarray(lat, float))
    return np.asarray(x, float), np.asarray(y, float)


def to_wgs84(x: np.ndarray, y: np.ndarray, crs: str = METRIC_CRS) -> tuple[np.ndarray,
                                                                           np.ndarray]:
    """Metric x/y back to WGS-84 longitude/latitude (vectorised)."""
    lon, lat = _transformer(crs, "EPSG:4326").transform(np.asarray(x, float),
                                                        np.asarray(y, float))
    return np.asarray(lon, float), np.asarray(lat, float)


def reproject(geoms: np.ndarray, src: str, dst: str) -> np.ndarray:
    """Shapely geometries from ``src`` to ``dst``, by the transformers kept here.

    What ``GeoSeries.to_crs`` gives, without the search for an operation that
    its first call in a process makes for each pair.
    """
    import shapely

    tr = _transformer(src, dst)

    def move(xy: np.ndarray) -> np.ndarray:
        return np.column_stack(tr.transform(xy[:, 0], xy[:, 1]))

    return np.asarray(shapely.transform(np.asarray(geoms), move))


@dataclass
class Grid:
    """Square cells of side ``cell`` metres whose centres lie inside a region.

    Attributes
    ----------
    cell
        Side of a cell in metres.
    x0, y1
        Left and top edge of the full raster in the metric CRS.
    nx, ny
        Columns and rows of the full raster.
    regions
        The regions (metric CRS) with ``county_adcode``, ``county``,
        ``city_adcode``, ``city`` and ``area_km2`` (exact polygon area).
    flat
        Flat raster index (``row * nx + col``) of each in-region cell.
    region
        Row of ``regions`` that holds each in-region cell.
    x, y
        Cell centres in the metric CRS.
    """

    cell: float
    x0: float
    y1: float
    nx: int
    ny: int
    crs: str
    regions: gpd.GeoDataFrame
    flat: np.ndarray
    region: np.ndarray
    x: np.ndarray = field(repr=False)
    y: np.ndarray = field(repr=False)
    # Work derived from the grid alone (demand layers read onto it, lookups);
    # it lives and dies with the grid, which is itself cached per cell size.
    cache: dict[Any, Any] = field(default_factory=dict, repr=False, compare=False)
    # The area the grid covers, as its tables name it: the province, or the
    # city or county a run is limited to (with its adcode).
    name: str = "河南省"
    adcode: str = regions.PROVINCE_ADCODE

    def __len__(self) -> int:
        return len(self.flat)

    @property
    def transform(self) -> Affine:
        from rasterio.transform import Affine

        return Affine(self.cell, 0.0, self.x0, 0.0, -self.cell, self.y1)

    @property
    def cell_km2(self) -> float:
        return self.cell * self.cell / 1e6

    def position(self) -> np.ndarray:
        """Raster-sized lookup from flat index to cell position (``-1`` outside)."""
        pos = self.cache.get("position")
        if pos is None:
            pos = np.full(self.nx * self.ny, -1, dtype=np.int64)
            pos[self.flat] = np.arange(len(self.flat))
            self.cache["position"] = pos
        return pos

    def locate(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Cell position of metric points, ``-1`` for points outside every region."""
        col = np.floor((np.asarray(x) - self.x0) / self.cell).astype(np.int64)
        row = np.floor((self.y1 - np.asarray(y)) / self.cell).astype(np.int64)
        ok = (col >= 0) & (col < self.nx) & (row >= 0) & (row < self.ny)
        out = np.full(len(col), -1, dtype=np.int64)
        out[ok] = self.position()[row[ok] * self.nx + col[ok]]
        return out

    def rows_cols(self) -> tuple[np.ndarray, np.ndarray]:
        return np.divmod(self.flat, self.nx)

    def regions_wgs84(self) -> np.ndarray:
        """The region polygons back in WGS-84 (for maps and GIS files), projected once."""
        geom = self.cache.get("regions_wgs84")
        if geom is None:
            geom = self.cache["regions_wgs84"] = reproject(self.regions.geometry.to_numpy(),
                                                           self.crs, "EPSG:4326")
        return cast(np.ndarray, geom)

    def cell_polygons(self, positions: np.ndarray) -> gpd.GeoSeries:
        """Square polygons (metric CRS) of the given cell positions."""
        import shapely

        h = self.cell / 2
        x, y = self.x[positions], self.y[positions]
        return gpd.GeoSeries(shapely.box(x - h, y - h, x + h, y + h), crs=self.crs)


def build(region_frame: gpd.GeoDataFrame, cell: float, *, crs: str = METRIC_CRS,
          name: str = "河南省", adcode: str = regions.PROVINCE_ADCODE) -> Grid:
    """Burn regions into a grid of ``cell``-metre squares (cell-centre rule).

    Parameters
    ----------
    region_frame
        Polygons with the columns of :data:`REGION_COLUMNS`, in any CRS.
    cell
        Side of a square cell in metres.
    crs
        Metric CRS of the grid.
    name, adcode
        The area the regions make up, for the tables' total row.

    Cells lie on one lattice of ``cell``-metre squares (edges at multiples of
    ``cell``), so the grid of a few regions has the same cells, with the same
    regions, as the province grid has there.
    """
    if not cell > 0:
        msg = f"cell size must be positive, got {cell}"
        raise ValueError(msg)
    src = region_frame.crs.to_string() if region_frame.crs is not None else crs
    reg = gpd.GeoDataFrame(region_frame.drop(columns=region_frame.geometry.name),
                           geometry=reproject(region_frame.geometry.to_numpy(), src, crs),
                           crs=crs).reset_index(drop=True)
    for col in REGION_COLUMNS:
        if col not in reg.columns:
            reg[col] = None
    reg = gpd.GeoDataFrame(reg[list(REGION_COLUMNS)].astype(object),
                           geometry=reg.geometry, crs=crs)
    reg["area_km2"] = reg.geometry.area / 1e6
    minx, miny, maxx, maxy = reg.total_bounds
    x0 = np.floor(minx / cell) * cell
    y1 = np.ceil(maxy / cell) * cell
    nx = int(np.ceil((maxx - x0) / cell))
    ny = int(np.ceil((y1 - miny) / cell))
    # rasterio loads with the first grid, not at every web worker's start-up.
    from rasterio import features
    from rasterio.transform import Affine

    transform = Affine(cell, 0.0, x0, 0.0, -cell, y1)
    burnt = features.rasterize(
        ((geom, i) for i, geom in enumerate(reg.geometry) if geom is not None and not
         geom.is_empty),
        out_shape=(ny, nx), transform=transform, fill=-1, dtype="int32", all_touched=False)
    flat = np.flatnonzero(burnt.ravel() >= 0)
    region = burnt.ravel()[flat].astype(np.int32)
    rows, cols = np.divmod(flat, nx)
    x = x0 + (cols + 0.5) * cell
    y = y1 - (rows + 0.5) * cell
    return Grid(cell=float(cell), x0=float(x0), y1=float(y1), nx=nx, ny=ny, crs=crs,
                regions=reg, flat=flat, region=region, x=x, y=y, name=name, adcode=adcode)


@memo.cached_ignoring("store")
def henan(boundaries_dir: str | Path, cell: float, *, store: str | None = None) -> Grid:
    """The province grid over Henan's county polygons, cached per cell size.

    With ``store`` (a folder), the grid is also kept there as a file named by
    the county file's content and the cell size, so that the next process to
    start (another worker, the next deployment) reads it instead of burning
    the polygons again; see :mod:`locator.planning.gridfile`.
    """
    from locator.planning import gridfile

    if store is None:
        return build_province(boundaries_dir, cell)
    return gridfile.load_or_build(boundaries_dir, cell, store,
                                  lambda: build_province(boundaries_dir, cell))


def build_province(boundaries_dir: str | Path, cell: float) -> Grid:
    """The province grid burnt from the county polygons, never cached nor kept."""
    return build(regions.counties(str(boundaries_dir)), cell)


@memo.cached_ignoring("store")
def scoped(boundaries_dir: str | Path, cell: float, adcode: str, *,
           store: str | None = None) -> Grid:
    """The grid of one city or county (the province grid for ``410000`` or ``""``)."""
    if adcode in ("", regions.PROVINCE_ADCODE):
        return henan(boundaries_dir, cell, store=store)
    rows = regions.scope_rows(str(boundaries_dir), adcode)
    return build(regions.counties(str(boundaries_dir)).iloc[rows], cell,
                 name=regions.scope_name(str(boundaries_dir), adcode), adcode=adcode)


def region_sums(grid: Grid, values: np.ndarray) -> np.ndarray:
    """Sum a per-cell array over each region (vectorised ``bincount``)."""
    return np.bincount(grid.region, weights=values, minlength=len(grid.regions))


def region_table(grid: Grid) -> pd.DataFrame:
    """The plain region attributes, one row per region."""
    return pd.DataFrame(grid.regions.drop(columns="geometry"))
