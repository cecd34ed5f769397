"""Coverage of the planning area by stations within a service radius.

A grid cell (see :mod:`locator.planning.grid`) is *covered* when the straight-line
distance ``d`` from its centre to the nearest station satisfies
``d * detour <= radius``. The detour factor stands in for street distance:
``1.0`` (the default) reads the target literally as "a station within 1 km as
the crow flies", which is how the national target is stated and audited;
``1.3``, a typical ratio of street to straight-line distance in Chinese city
grids, asks for a station within about 1 km *of walking*, i.e. within 770 m
straight-line. Distances come from a k-d tree over projected station
coordinates, one vectorised query for all cells.

Results are per region (county, city, province): the share of area and,
when a demand layer is given, the share of demand within reach, plus the
worst gap areas ranked by the demand left uncovered.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from locator.domain import params
from locator.errors import invalid
from locator.planning.demand import Demand
from locator.planning.grid import Grid, region_sums, reproject, to_metric, to_wgs84
from locator.planning.network_distance import Network
from locator.stations import filters
from locator.stations.dataset import Dataset

MAX_RADIUS_M = params.MAX_RADIUS_M
BY = params.BY
AREA_METHODS = ("exact", "grid")
# 32 segments per quarter circle: the polygon's area is 0.04 % short of the circle's.
QUAD_SEGS = 32


def station_xy(ds: Dataset, kinds: Sequence[str], *,
               include_temporarily_closed: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Metric coordinates of the stations that serve: chosen kinds, not closed."""
    keep = filters.mask(ds, kinds=kinds, statuses=filters.serving_statuses(
        include_temporarily_closed=include_temporarily_closed))
    return to_metric(ds.lon[keep], ds.lat[keep])


def nearest_distance(x: np.ndarray, y: np.ndarray, sx: np.ndarray, sy: np.ndarray
                     ) -> np.ndarray:
    """Straight-line distance (m) from each point to the nearest station (``inf`` if none)."""
    if len(sx) == 0:
        return np.full(len(x), np.inf)
    tree = cKDTree(np.column_stack([sx, sy]))
    d, _ = tree.query(np.column_stack([x, y]), k=1, workers=-1)
    return np.asarray(d, float)


def check_radius(radius: float, detour: float) -> None:
    if not 0 < radius <= MAX_RADIUS_M:
        raise invalid("radius", f"radius must be between 1 and {MAX_RADIUS_M:g} metres, "
                      f"got {radius:g}")
    if not 1.0 <= detour <= 3.0:
        raise invalid("detour", f"detour must be between 1 and 3, got {detour:g}")


@dataclass
class Coverage:
    """Distances and coverage of every grid cell, and the inputs they came from."""

    grid: Grid
    radius: float
    detour: float
    distance: np.ndarray
    demand: Demand | None
    station_region: np.ndarray
    exact_km2: np.ndarray | None = None
    # "straight" or "network"; with "network", distance runs along the street graph.
    distance_kind: str = "straight"
    network_version: str = ""
    # Cells too far from any road to join the network (always False for straight).
    unreachable: np.ndarray | None = None

    @property
    def reach(self) -> float:
        """Largest straight-line distance that still counts as covered."""
        return self.radius / self.detour

    @property
    def covered(self) -> np.ndarray:
        return self.distance <= self.reach

    @property
    def weights(self) -> np.ndarray:
        return self.demand.weights if self.demand is not None else np.zeros(len(self.grid))


def exact_covered_km2(regions: gpd.GeoSeries, sx: np.ndarray, sy: np.ndarray,
                      reach: float) -> np.ndarray:
    """Exact covered area (km²) of each region: its polygon ∩ the union of station discs.

    Discs are polygons with :data:`QUAD_SEGS` segments per quarter; only the
    stations within ``reach`` of a region (one STRtree query) are unioned for it.
    """
    import shapely

    geoms = regions.to_numpy()
    out = np.zeros(len(geoms))
    if len(sx) == 0:
        return out
    pts = np.asarray(shapely.points(sx, sy), dtype=object)
    tree = shapely.STRtree(pts)
    reg_i, pt_i = tree.query(geoms, predicate="dwithin", distance=reach)
    if not len(reg_i):
        return out
    bounds = np.flatnonzero(np.diff(reg_i)) + 1
    starts = np.concatenate([[0], bounds])
    ends = np.concatenate([bounds, [len(reg_i)]])
    for a, b in zip(starts, ends, strict=True):
        r = reg_i[a]
        # One region's discs at a time: all of them at once (about 2 KB each) were
        # 2 GB at a million stations; a border station's disc is built once per region.
        discs = shapely.buffer(pts[pt_i[a:b]], reach, quad_segs=QUAD_SEGS)
        union = shapely.union_all(discs)
        del discs
        out[r] = shapely.area(shapely.intersection(geoms[r], union)) / 1e6
    return out


def compute(grid: Grid, sx: np.ndarray, sy: np.ndarray, *, radius: float = 1000.0,
            detour: float = 1.0, demand: Demand | None = None,
            area: str = "exact", network: Network | None = None) -> Coverage:
    """Distance to the nearest station for every cell of ``grid``.

    Parameters
    ----------
    grid
        The planning grid.
    sx, sy
        Station coordinates in the grid's metric CRS.
    radius
        Service radius in metres.
    detour
        Street over straight-line distance; a cell is covered when
        ``distance * detour <= radius``.
    demand
        Optional demand weights per cell.
    area
        ``"exact"``: covered area from polygon geometry (disc union clipped
        to each region); ``"grid"``: from the share of covered cell centres.
        Demand and gaps always use the grid.
    network
        When given, distances run along this street graph (snap distances
        included, ``detour`` ignored) and area comes from the grid.
    """
    check_radius(radius, detour)
    if area not in AREA_METHODS:
        raise invalid("area", f"area must be one of {', '.join(AREA_METHODS)}, got {area!r}")
    pos = grid.locate(sx, sy)
    station_region = np.where(pos >= 0, grid.region[np.maximum(pos, 0)], -1)
    if network is not None:
        if network.crs != grid.crs:
            raise ValueError(f"network projected to {network.crs}, grid to {grid.crs}")
        dist = network.nearest(grid.x, grid.y, sx, sy, limit=radius)
        far = ~network.snapper.snap(grid.x, grid.y, max_snap=network.max_snap).reachable
        return Coverage(grid, float(radius), 1.0, dist, demand, station_region, None,
                        "network", network.version, far)
    dist = nearest_distance(grid.x, grid.y, sx, sy)
    exact = (exact_covered_km2(grid.regions.geometry, sx, sy, radius / detour)
             if area == "exact" else None)
    return Coverage(grid, float(radius), float(detour), dist, demand, station_region, exact)


def table(cov: Coverage, *, by: str = "county") -> pd.DataFrame:
    """Area and demand coverage per county, city or the whole province.

    Region areas are exact polygon areas. Covered area is exact geometry when
    the coverage was computed with ``area="exact"``; otherwise it is the share
    of the region's cells whose centres are within reach times the area.
    """
    if by not in BY:
        raise invalid("by", f"by must be one of {', '.join(BY)}, got {by!r}")
    g = cov.grid
    n_reg = len(g.regions)
    cells = np.bincount(g.region, minlength=n_reg).astype(float)
    covered = region_sums(g, cov.covered.astype(float))
    w = cov.weights
    dem = region_sums(g, w)
    dem_cov = region_sums(g, w * cov.covered)
    ok = cov.station_region >= 0
    stations = np.bincount(cov.station_region[ok], minlength=n_reg).astype(float)
    area = g.regions["area_km2"].to_numpy(float)
    if cov.exact_km2 is not None:
        covered_km2 = cov.exact_km2
    else:
        covered_km2 = np.divide(covered, cells, out=np.zeros(n_reg), where=cells > 0) * area
    base = pd.DataFrame({
        "county_adcode": g.regions["county_adcode"].astype(str),
        "county": g.regions["county"], "city_adcode": g.regions["city_adcode"].astype(str),
        "city": g.regions["city"], "area_km2": area, "covered_km2": covered_km2,
        "cells": cells, "covered_cells": covered, "stations": stations,
        "demand": dem, "covered_demand": dem_cov,
        "unreachable_cells": region_sums(g, cov.unreachable.astype(float))
        if cov.unreachable is not None else np.zeros(n_reg)})
    if by == "city":
        base = base.groupby(["city_adcode", "city"], as_index=False, sort=True).sum(
            numeric_only=True)
    elif by == "province":
        base = pd.DataFrame([{"name": g.name, **base.sum(numeric_only=True).to_dict()}])
    out = base.copy()
    out["area_share"] = np.divide(out["covered_km2"], out["area_km2"],
                                  out=np.zeros(len(out)), where=out["area_km2"].to_numpy() > 0)
    out["demand_share"] = np.divide(out["covered_demand"], out["demand"],
                                    out=np.full(len(out), np.nan),
                                    where=out["demand"].to_numpy() > 0)
    out["uncovered_demand"] = out["demand"] - out["covered_demand"]
    out["stations"] = out["stations"].astype(int)
    out["cells"] = out["cells"].astype(int)
    out["covered_cells"] = out["covered_cells"].astype(int)
    out["unreachable_cells"] = out["unreachable_cells"].astype(int)
    return out.reset_index(drop=True)


def region_frame(cov: Coverage, *, by: str = "county") -> gpd.GeoDataFrame:
    """:func:`table` with each region's polygon (WGS-84), for maps and GIS files."""
    tab = table(cov, by=by)
    reg = cov.grid.regions
    if by == "county":
        geom = cov.grid.regions_wgs84()
    elif by == "city":
        dissolved = reg.dissolve(by="city_adcode").to_crs("EPSG:4326")
        geom = dissolved.loc[tab["city_adcode"]].geometry.to_numpy()
    else:
        geom = np.array([reg.union_all()])
        geom = gpd.GeoSeries(geom, crs=reg.crs).to_crs("EPSG:4326").to_numpy()
    return gpd.GeoDataFrame(tab, geometry=geom, crs="EPSG:4326")


def gap_block(radius: float, cell: float) -> float:
    """Side of the square gap areas: about the diameter one new station covers."""
    return cell * max(1, round(2 * radius / cell))


def gaps(cov: Coverage, *, top: int = 50, block: float | None = None) -> gpd.GeoDataFrame:
    """The worst gap areas: squares of the grid holding the most uncovered demand.

    Gap cells are cells beyond reach (with demand, when a demand layer is
    given). They are summed over squares of ``block`` metres (default: the
    diameter of one station's reach), ranked by uncovered demand, then by gap
    area, and each square is labelled with the county holding most of it.
    """
    g = cov.grid
    b = block or gap_block(cov.reach, g.cell)
    k = max(1, round(b / g.cell))
    w = cov.weights
    gap = ~cov.covered
    if cov.demand is not None:
        gap &= w > 0
    pos = np.flatnonzero(gap)
    cols = pd.DataFrame(columns=["rank", "county_adcode", "county", "city", "gap_km2",
                                 "uncovered_demand", "mean_distance_m", "max_distance_m",
                                 "lon", "lat"])
    if not len(pos):
        return gpd.GeoDataFrame(cols, geometry=gpd.GeoSeries([], crs="EPSG:4326"))
    rows, cc = g.rows_cols()
    bid = (rows[pos] // k) * (g.nx // k + 1) + cc[pos] // k
    dist = np.minimum(cov.distance[pos], 1e9)
    # Block ids are dense (one per k x k cells of the raster): counted, not sorted.
    counts = np.bincount(bid)
    blocks = np.flatnonzero(counts)
    compact = np.zeros(len(counts), dtype=np.int64)
    compact[blocks] = np.arange(len(blocks))
    inv = compact[bid]
    cells = counts[blocks].astype(float)
    dem = np.bincount(inv, weights=w[pos], minlength=len(blocks))
    mean_d = np.bincount(inv, weights=dist, minlength=len(blocks)) / cells
    rank = np.lexsort((-mean_d, -cells, -dem))[:top]
    # The largest distance and the label are only needed for the squares kept.
    kept = np.full(len(blocks), -1, dtype=np.int64)
    kept[rank] = np.arange(len(rank))
    at = kept[inv]
    mine = at >= 0
    at = at[mine]
    max_d = np.full(len(rank), -np.inf)
    np.maximum.at(max_d, at, dist[mine])
    # Each square is labelled with the region holding most of its gap cells
    # (the lowest region row on a tie).
    n_reg = len(g.regions)
    pair, pair_n = np.unique(at * n_reg + g.region[pos[mine]], return_counts=True)
    pb, pr = np.divmod(pair, n_reg)
    best = np.lexsort((pr, -pair_n, pb))
    region_of = pr[best[np.r_[True, pb[best][1:] != pb[best][:-1]]]]
    agg = pd.DataFrame({"cells": cells[rank], "demand": dem[rank], "mean_d": mean_d[rank],
                        "max_d": max_d, "region": region_of}, index=blocks[rank])
    brow, bcol = np.divmod(agg.index.to_numpy(), g.nx // k + 1)
    x0 = g.x0 + bcol * k * g.cell
    y1 = g.y1 - brow * k * g.cell
    import shapely

    boxes = gpd.GeoSeries(reproject(shapely.box(x0, y1 - k * g.cell, x0 + k * g.cell, y1),
                                    g.crs, "EPSG:4326"), crs="EPSG:4326")
    reg = g.regions.iloc[agg["region"].to_numpy()]
    cx, cy = to_wgs84(x0 + k * g.cell / 2, y1 - k * g.cell / 2, g.crs)
    out = pd.DataFrame({
        "rank": np.arange(1, len(agg) + 1),
        "county_adcode": reg["county_adcode"].astype(str).to_numpy(),
        "county": reg["county"].to_numpy(), "city": reg["city"].to_numpy(),
        "gap_km2": agg["cells"].to_numpy() * g.cell_km2,
        "uncovered_demand": agg["demand"].to_numpy(),
        "mean_distance_m": agg["mean_d"].to_numpy().round(0),
        "max_distance_m": agg["max_d"].to_numpy().round(0),
        "lon": cx.round(6), "lat": cy.round(6)})
    return gpd.GeoDataFrame(out, geometry=boxes.to_numpy(), crs="EPSG:4326")


def gap_cells(cov: Coverage) -> pd.DataFrame:
    """Every gap cell: centre (WGS-84), county, demand and distance to the nearest station."""
    gap = ~cov.covered
    if cov.demand is not None:
        gap &= cov.weights > 0
    pos = np.flatnonzero(gap)
    g = cov.grid
    lon, lat = to_wgs84(g.x[pos], g.y[pos], g.crs)
    reg = g.regions.iloc[g.region[pos]]
    return pd.DataFrame({"lon": lon.round(6), "lat": lat.round(6),
                         "county_adcode": reg["county_adcode"].astype(str).to_numpy(),
                         "demand": cov.weights[pos],
                         "distance_m": np.minimum(cov.distance[pos], 1e9).round(0)})


__all__ = ["AREA_METHODS", "BY", "MAX_RADIUS_M", "Coverage", "check_radius", "compute",
           "exact_covered_km2", "gap_block", "gap_cells", "gaps", "nearest_distance",
           "region_frame", "station_xy", "table", "to_metric"]
