"""The province grid kept as a file, so that a new process reads it instead of building it.

Burning the 157 county polygons into a 500 m grid takes a few tenths of a
second of one core (reprojecting the polygons, rasterising them, projecting
them back for the maps), and every web worker, job worker and restart paid
it again on its first planning run. The grid depends only on the county file
and the cell size, so it is written once to a folder (``DATA_DIR/grids`` when
served) under a name made of the county file's SHA-256, the cell size, the
CRS and :data:`FORMAT`; a changed boundary file or cell size is a new name.

The file is a plain ``.npz`` (no pickled objects): the raster frame, the cell
arrays, the region attributes and the polygons as WKB, metric and WGS-84.
It is written to a temporary name and renamed, so a reader never sees half a
file; an unreadable file is built again and replaced, and a folder that
cannot be written only means the grid is built in memory, as without a store.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from locator.geo import regions
from locator.geo.datum import METRIC_CRS
from locator.planning.grid import REGION_COLUMNS, Grid

log = logging.getLogger(__name__)
# Raised whenever what the file holds, or how it is read, changes.
FORMAT = 1


def file_name(boundaries_dir: str | Path, cell: float, crs: str = METRIC_CRS) -> str:
    """The file a grid of these boundaries and this cell size is kept under."""
    digest = hashlib.sha256((Path(boundaries_dir) / regions.COUNTY_FILE).read_bytes())
    digest.update(f"|{float(cell)!r}|{crs}|{FORMAT}".encode())
    return f"grid-{digest.hexdigest()[:24]}.npz"


def load_or_build(boundaries_dir: str | Path, cell: float, store: str | Path,
                  build: Callable[[], Grid]) -> Grid:
    """The grid from ``store``, or ``build()`` written there for the next process."""
    path = Path(store) / file_name(boundaries_dir, cell)
    if path.exists():
        try:
            return read(path)
        except (OSError, ValueError, KeyError) as err:
            log.warning("rebuilding the unreadable grid file %s: %s", path, err)
    return _build_and_write(build, path)


def keep(boundaries_dir: str | Path, cell: float, store: str | Path,
         build: Callable[[], Grid]) -> bool:
    """Make sure ``store`` holds the grid file, without reading one that is there.

    Returns True when the grid had to be built (and, the folder permitting, was
    written); a start-up step calls it so that no visitor waits for the build.
    """
    path = Path(store) / file_name(boundaries_dir, cell)
    if path.exists():
        return False
    _build_and_write(build, path)
    return True


def _build_and_write(build: Callable[[], Grid], path: Path) -> Grid:
    """``build()``, kept at ``path`` when its folder can be written (else only logged)."""
    g = build()
    try:
        write(g, path)
    except OSError as err:
        log.warning("could not keep the grid in %s: %s", path.parent, err)
    return g


def _pack(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    blobs = shapely.to_wkb(geoms)
    ends = np.cumsum([len(b) for b in blobs], dtype=np.int64)
    return np.frombuffer(b"".join(blobs), dtype=np.uint8), ends


def _unpack(data: np.ndarray, ends: np.ndarray) -> np.ndarray:
    raw = data.tobytes()
    starts = np.r_[0, ends[:-1]]
    return shapely.from_wkb([raw[a:b] for a, b in zip(starts, ends, strict=True)])


def _narrow(a: np.ndarray) -> np.ndarray:
    """``a`` in the narrowest of int16/int32 that holds it (halves the file of a 500 m grid)."""
    for dtype in (np.int16, np.int32):
        if not len(a) or (a.min() >= np.iinfo(dtype).min and a.max() <= np.iinfo(dtype).max):
            return a.astype(dtype)
    return a


def write(g: Grid, path: Path) -> None:
    """Keep ``g`` at ``path`` (made atomically: written aside, then renamed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    metric, metric_ends = _pack(g.regions.geometry.to_numpy())
    wgs84, wgs84_ends = _pack(g.regions_wgs84())
    columns = {f"col_{c}": g.regions[c].to_numpy().astype(str) for c in REGION_COLUMNS}
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with tmp.open("wb") as out:
        np.savez(out, frame=np.array([g.cell, g.x0, g.y1, g.nx, g.ny], dtype=np.float64),
                 text=np.array([g.crs, g.name, g.adcode]), flat=_narrow(g.flat),
                 region=_narrow(g.region),
                 area_km2=g.regions["area_km2"].to_numpy(np.float64),
                 metric=metric, metric_ends=metric_ends, wgs84=wgs84, wgs84_ends=wgs84_ends,
                 **columns)
    tmp.replace(path)


def read(path: Path) -> Grid:
    """The grid kept at ``path`` by :func:`write`."""
    with np.load(path, allow_pickle=False) as f:
        cell, x0, y1, nx, ny = (float(v) for v in f["frame"])
        crs, name, adcode = (str(v) for v in f["text"])
        # The dtypes build() gives, whatever width they were kept in.
        flat, region = f["flat"].astype(np.int64), f["region"].astype(np.int32)
        # Object columns, as build() makes them (pandas would infer its string dtype).
        attrs = pd.DataFrame({c: f[f"col_{c}"] for c in REGION_COLUMNS}).astype(object)
        reg = gpd.GeoDataFrame(attrs, geometry=_unpack(f["metric"], f["metric_ends"]),
                               crs=crs)
        reg["area_km2"] = f["area_km2"]
        wgs84 = _unpack(f["wgs84"], f["wgs84_ends"])
    if len(reg) != len(wgs84) or (len(region) and int(region.max()) >= len(reg)):
        msg = "the regions and the cells do not match"
        raise ValueError(msg)
    rows, cols = np.divmod(flat, int(nx))
    g = Grid(cell=cell, x0=x0, y1=y1, nx=int(nx), ny=int(ny), crs=crs, regions=reg,
             flat=flat, region=region, x=x0 + (cols + 0.5) * cell, y=y1 - (rows + 0.5) * cell,
             name=name, adcode=adcode)
    g.cache["regions_wgs84"] = wgs84
    return g
