"""Limiting a planning run to one city or county.

A run scoped to an area (a city or county adcode) works on the grid of that
area alone (:func:`locator.planning.grid.scoped`): the demand counted, the
regions reported, the gap areas and the candidate sites are all inside it.
Existing stations are not cut at the border: every station within the service
radius of the area, inside or outside, still covers the demand it reaches, as
a worker living by the border walks to the nearest station whichever county
it is in. Since a street path is never shorter than the straight line, a
station beyond the radius of the area's edge reaches nothing inside, so the
stations kept are exactly those that can matter, for either distance.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely

from locator.domain import params, schema
from locator.errors import invalid
from locator.geo import regions
from locator.planning import grid, reuse
from locator.planning.demand import Demand
from locator.stations import filters
from locator.stations.dataset import Dataset

# Station counts of the 2023 national report, province-wide.
REPORT_FIGURES = {"rest_station": 11_500, "reading_room": 2_109}
# Held around every use of a prepared area (see ``near``).
_PREPARED = threading.Lock()


def parse(raw: str | None, cfg: Mapping[str, Any]) -> str:
    """The area of a run: ``""`` for the province, else a known city or county adcode."""
    code = (raw or "").strip()
    if code in ("", regions.PROVINCE_ADCODE):
        return ""
    known = regions.scopes(str(cfg["BOUNDARIES_DIR"]))["adcode"]
    if not known.eq(code).any():
        raise invalid(params.TABLE["region"].name,
                      f"unknown region {code!r}: give the 6-digit adcode of a Henan city or "
                      f"county (for example 410100 for 郑州市, 410105 for 金水区), or "
                      f"{regions.PROVINCE_ADCODE} for the whole province")
    return code


def grid_store(cfg: Mapping[str, Any]) -> str | None:
    """The folder the province grid is kept in between processes (``DATA_DIR/grids``)."""
    return str(Path(cfg["DATA_DIR"]) / "grids") if cfg.get("DATA_DIR") else None


def keep_province_grid(cfg: Mapping[str, Any]) -> bool:
    """Write the province grid file into :func:`grid_store` unless it is there.

    True when it had to be built. Without a data folder there is nowhere to
    keep it, and nothing is done.
    """
    from locator.planning import gridfile

    store = grid_store(cfg)
    if store is None:
        return False
    boundaries, cell = str(cfg["BOUNDARIES_DIR"]), float(cfg["GRID_CELL_M"])
    return gridfile.keep(boundaries, cell, store,
                         lambda: grid.build_province(boundaries, cell))


def province_grid(cfg: Mapping[str, Any]) -> grid.Grid:
    """The planning grid of the whole province."""
    return grid.henan(str(cfg["BOUNDARIES_DIR"]), float(cfg["GRID_CELL_M"]),
                      store=grid_store(cfg))


def grid_for(cfg: Mapping[str, Any], region: str) -> grid.Grid:
    """The planning grid of the run's area."""
    return grid.scoped(str(cfg["BOUNDARIES_DIR"]), float(cfg["GRID_CELL_M"]), region,
                       store=grid_store(cfg))


def is_scoped(g: grid.Grid) -> bool:
    return g.adcode != regions.PROVINCE_ADCODE


def demand_on(g: grid.Grid, cfg: Mapping[str, Any], path: str | Path) -> Demand:
    """The demand layer on the run's grid: read on the province grid, then cut to the area.

    A layer is read for the whole province (and kept there) so that a county
    table naming every county is valid for any area, and each cell of the area
    gets exactly the weight it has in a province run (the cells are the same).
    """
    whole = province_grid(cfg)
    dem = reuse.demand_on(whole, path)
    if not is_scoped(g):
        return dem
    pos = whole.locate(g.x, g.y)
    w = np.where(pos >= 0, dem.weights[np.maximum(pos, 0)], 0.0)
    return dataclasses.replace(dem, weights=w, dropped=dem.total_read - float(w.sum()))


def near(g: grid.Grid, x: np.ndarray, y: np.ndarray, radius: float) -> np.ndarray:
    """Which metric points lie within ``radius`` of the grid's area (all, for the province)."""
    if not is_scoped(g) or not len(x):
        return np.ones(len(x), dtype=bool)
    area = g.cache.get("area")
    if area is None:
        area = g.cache["area"] = g.regions.geometry.union_all()
        shapely.prepare(area)
    points = shapely.points(x, y)
    # The prepared area may be shared by planning jobs running at once, and a
    # prepared GEOS geometry is not thread-safe (see geo.regions).
    with _PREPARED:
        return np.asarray(shapely.dwithin(area, points, radius), dtype=bool)


def headline(ds: Dataset, g: grid.Grid) -> dict[str, Any]:
    """Stations per kind (with the report's figure for the province) and per city.

    For a scoped run the counts are of the stations inside the area, and the
    province-wide report figures are left out: they would not compare.
    """
    live = filters.mask(ds, statuses=filters.SERVING)  # closed stations are not counted
    x, y = grid.to_metric(ds.lon[live], ds.lat[live])
    pos = g.locate(x, y)
    city = np.where(pos >= 0, g.regions["city"].to_numpy()[g.region[np.maximum(pos, 0)]],
                    "—")
    kind = np.asarray(schema.KIND_CODES)[ds.kind[live].clip(0)]
    scoped = is_scoped(g)
    if scoped:
        inside = (pos >= 0) & (ds.kind[live] >= 0)
        city, kind = city[inside], kind[inside]
    by_city = pd.crosstab(pd.Series(city, name="city", dtype=object),
                          pd.Series(kind, name="kind", dtype=object))
    by_city = by_city.reindex(columns=list(schema.KIND_CODES), fill_value=0)
    counts = (by_city.sum(axis=0).astype(int).to_dict() if scoped else ds.counts())
    return {"by_kind": [{"kind": k, "count": int(counts.get(k, 0)),
                         "report": None if scoped else REPORT_FIGURES.get(k)}
                        for k in schema.KIND_CODES],
            "by_city": [{"city": str(c), **{k: int(v) for k, v in row.items()}}
                        for c, row in by_city.iterrows()]}
