"""One planning run: coverage, gaps and suggested sites for a parameter set.

This ties the grid, the demand layer, the coverage engine and the siting
solver together for the API, the CLI and the planner page. Parameters are
parsed here once (:func:`parse`) so every entry point validates alike.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from locator.domain import params, presets
from locator.errors import LocatorError, invalid
from locator.planning import (
    coverage,
    demand,
    grid,
    lattice,
    network_distance,
    reuse,
    scope,
    siting,
)
from locator.planning.names import nearest_places, nearest_roads
from locator.stations import osm_search
from locator.stations.dataset import Dataset

REPORT_FIGURES = scope.REPORT_FIGURES
NONE_LAYER = "none"
POPULATION_LAYER = "population"
Progress = Callable[[str], None]
# The stages a run reports, in order; a progress bar moves by them.
STAGES = ("grid", "demand", "coverage", "suggest", "matrix", "greedy", "swap", "bound", "lp",
          "milp")


def stage_percent(step: str | None) -> int:
    """How far along a run reporting ``step`` is, 0-100 (0 before its first stage)."""
    if step not in STAGES:
        return 0
    return round(100 * (STAGES.index(step) + 1) / (len(STAGES) + 1))


@dataclass(frozen=True)
class PlanParams:
    """Everything a planning run depends on, besides the dataset."""

    kinds: tuple[str, ...] = ("rest_station",)
    radius: float = 1000.0
    detour: float = 1.0
    demand: str = NONE_LAYER
    by: str = "county"
    n: int = 0
    preset: str | None = None
    candidates: str | None = None
    distance: str = "straight"
    # Adcode of the city or county the run is limited to; empty for the province.
    region: str = ""

    def key(self, version: str) -> str:
        # A preset only fills in the other fields: with equal fields the run is the same.
        fields = {k: v for k, v in asdict(self).items() if k != "preset"}
        blob = json.dumps({**fields, "version": version}, sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


def demand_layers(cfg: Mapping[str, Any]) -> dict[str, Path]:
    """Named demand layers on offer: the population table and files in DEMAND_DIR."""
    out: dict[str, Path] = {}
    pop = Path(cfg["POPULATION_PATH"])
    if pop.is_file():
        out[POPULATION_LAYER] = pop
    if cfg["DEMAND_DIR"]:
        folder = Path(cfg["DEMAND_DIR"])
        if folder.is_dir():
            for f in sorted(folder.iterdir()):
                if f.suffix.lower() in (".csv", *demand.VECTOR_SUFFIXES,
                                        *demand.RASTER_SUFFIXES):
                    out.setdefault(f.stem, f)
    return out


def parse(args: Mapping[str, Any], cfg: Mapping[str, Any], *, with_n: bool) -> PlanParams:
    """Validate query arguments (a Werkzeug MultiDict or a plain dict of strings)."""
    def get(name: str) -> str | None:
        v = args.get(name)
        return None if v is None else str(v)

    def getlist(name: str) -> list[str]:
        if hasattr(args, "getlist"):
            return list(args.getlist(name))
        v = args.get(name)
        return [] if v is None else list(v) if isinstance(v, list | tuple) else [str(v)]

    preset_code = get("preset") or None
    preset = None
    if preset_code is not None:
        params.TABLE["preset"].parse(preset_code)
        preset = presets.BY_CODE[preset_code]
    kinds = params.kinds(getlist("kind"))
    if not kinds:
        kinds = list(preset.kinds) if preset else ["rest_station"]
    default_r = preset.radius(cfg) if preset else float(cfg["PRESET_SANITATION_M"])
    radius = params.TABLE["radius"].parse(get("radius"), default=default_r)
    detour = params.TABLE["detour"].parse(get("detour"), default=float(cfg["COVERAGE_DETOUR"]))
    layers = demand_layers(cfg)
    layer = get("demand") or (POPULATION_LAYER if POPULATION_LAYER in layers else NONE_LAYER)
    if layer != NONE_LAYER and layer not in layers:
        raise invalid("demand", f"unknown demand layer {layer!r}; available: "
                      f"{', '.join([NONE_LAYER, *layers])}")
    by = params.TABLE["by"].parse(get("by"))
    n = params.integer("n", get("n"), lo=0 if not with_n else 1, hi=int(cfg["MAX_SUGGEST_N"]),
                       default=10 if with_n else 0)
    return PlanParams(kinds=tuple(sorted(kinds)), radius=radius, detour=detour, demand=layer,
                      by=by, n=n, preset=preset_code,
                      distance=parse_distance(get("distance"), cfg),
                      region=scope.parse(get("region"), cfg))


def parse_distance(raw: str | None, cfg: Mapping[str, Any]) -> str:
    """``network`` or ``straight``; the default is network when a graph is configured."""
    has = network_distance.network_path(cfg) is not None
    pref = str(cfg.get("PLANNING_DISTANCE", "auto"))
    default = "network" if has and pref != "straight" else "straight"
    out = params.distance(raw, default=default)
    if out == "network" and not has:
        raise LocatorError(409, "no_network", "no street graph is configured: build one with "
                           "`locator network build --osm FILE.osm.pbf` or set NETWORK_PATH",
                           "distance")
    return out


def read_candidates(path: str | Path) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Possible sites from a CSV (lon, lat[, name]) or a point layer, WGS-84."""
    p = Path(path)
    if not p.is_file():
        raise invalid("candidates", f"candidates file not found: {p.name}")
    if p.suffix.lower() == ".csv":
        df = pd.read_csv(p)
        if not {"lon", "lat"} <= set(df.columns):
            raise invalid("candidates", f"{p.name}: needs lon and lat columns")
        lon = pd.to_numeric(df["lon"], errors="coerce").to_numpy(float)
        lat = pd.to_numeric(df["lat"], errors="coerce").to_numpy(float)
        names = df["name"].astype(str).tolist() if "name" in df.columns else [""] * len(df)
    else:
        try:
            gdf = gpd.read_file(p)
        except Exception:  # GDAL raises many types for unreadable files
            raise invalid("candidates", f"{p.name}: not a readable vector file") from None
        if gdf.crs is None or not gdf.geom_type.eq("Point").all():
            raise invalid("candidates", f"{p.name}: needs points with a CRS")
        gdf = gdf.to_crs("EPSG:4326")
        lon, lat = gdf.geometry.x.to_numpy(float), gdf.geometry.y.to_numpy(float)
        names = (gdf["name"].astype(str).tolist() if "name" in gdf.columns
                 else [""] * len(gdf))
    bad = ~(np.isfinite(lon) & np.isfinite(lat)) | (np.abs(lon) > 180) | (np.abs(lat) > 90)
    if bad.any():
        raise invalid("candidates", f"{p.name}: row {int(np.flatnonzero(bad)[0]) + 1} has "
                      "no valid lon/lat")
    if not len(lon):
        raise invalid("candidates", f"{p.name}: no candidate sites")
    return lon, lat, names


@dataclass
class Plan:
    """The outcome of one run, ready for tables, maps and files."""

    params: PlanParams
    version: str
    demo: bool
    unit: str
    counties: gpd.GeoDataFrame
    cities: pd.DataFrame
    province: dict[str, Any]
    gaps: gpd.GeoDataFrame
    suggestions: gpd.GeoDataFrame
    curve: list[dict[str, float]]
    certificate: dict[str, Any]
    headline: dict[str, Any]
    seconds: dict[str, float] = field(default_factory=dict)
    cov: coverage.Coverage | None = field(default=None, repr=False)
    # A fast first answer that a full run will replace (see :func:`run`).
    provisional: bool = False
    # Rendered views of this plan (map parts per language and tiles), kept with the
    # plan so that a cached plan is not drawn again and the renders die with it.
    views: dict[tuple[str, ...], Any] = field(default_factory=dict, repr=False)


def _aggregate(g: grid.Grid, w: np.ndarray, block: float) -> tuple[np.ndarray, np.ndarray,
                                                                    np.ndarray]:
    """Demand points for siting: cells, or weighted centroids of coarser blocks."""
    pos = np.flatnonzero(w > 0)
    k = max(1, int(block // g.cell))
    if k == 1:
        return g.x[pos], g.y[pos], w[pos]
    rows, cols = g.rows_cols()
    bid = (rows[pos] // k) * (g.nx // k + 1) + cols[pos] // k
    _, inv = np.unique(bid, return_inverse=True)
    sw = np.bincount(inv, weights=w[pos])
    return (np.bincount(inv, weights=w[pos] * g.x[pos]) / sw,
            np.bincount(inv, weights=w[pos] * g.y[pos]) / sw, sw)


# One thread for a run's exact-area geometry, shared by all runs of this process.
_SIDE = ThreadPoolExecutor(max_workers=1, thread_name_prefix="locator-geometry")


def _counties(cov: coverage.Coverage, exact: Future[np.ndarray] | None) -> gpd.GeoDataFrame:
    """The county frame, with the exact covered area once its computation is in."""
    if exact is not None:
        cov = dataclasses.replace(cov, exact_km2=exact.result())
    return coverage.region_frame(cov, by="county")


def run(p: PlanParams, ds: Dataset, cfg: Mapping[str, Any], *,
        progress: Progress | None = None, first: bool = False) -> Plan:
    """Coverage, gaps and (when ``p.n > 0``) suggested sites for ``p`` on ``ds``.

    With ``first``, the run answers fast: siting gets ``SUGGEST_FIRST_SECONDS``
    and covered area comes from the grid unless the exact area is already kept
    for this dataset. The plan is then marked ``provisional`` when the full run
    would report something different (area, or a gap above the target).
    """
    say = progress or (lambda _s: None)
    secs: dict[str, float] = {}
    t = time.perf_counter()
    say("grid")
    g = scope.grid_for(cfg, p.region)
    layers = demand_layers(cfg)
    dem = None
    dem_key = ""
    if p.demand != NONE_LAYER:
        say("demand")
        path = layers.get(p.demand, Path(p.demand))
        dem = scope.demand_on(g, cfg, path)
        dem_key = reuse.file_key(path)
    secs["inputs"] = time.perf_counter() - t
    say("coverage")
    t = time.perf_counter()
    sx, sy = coverage.station_xy(ds, p.kinds)
    # Stations beyond the radius of a scoped area reach nothing in it (see scope).
    close = scope.near(g, sx, sy, p.radius)
    sx, sy = sx[close], sy[close]
    net = network_distance.load(cfg) if p.distance == "network" else None
    # Distances and demand do not depend on how area is measured: kept once, and
    # the exact covered area (by station set and reach only) is kept beside them.
    cov_key = reuse.key(kinds=p.kinds, radius=p.radius, detour=p.detour, demand=dem_key,
                        distance=p.distance, cell=g.cell, grid=id(g), region=g.adcode,
                        network=net.version if net is not None else "")
    cov = reuse.kept(ds, "coverage", cov_key, lambda: coverage.compute(
        g, sx, sy, radius=p.radius, detour=p.detour, demand=dem, area="grid", network=net))
    pending = False
    exact: Future[np.ndarray] | None = None
    if str(cfg["COVERAGE_AREA"]) == "exact" and net is None:
        exact_key = reuse.key(kinds=p.kinds, reach=cov.reach, grid=id(g), region=g.adcode)
        if first and not reuse.has(ds, "exact", exact_key):
            pending = True  # the first answer counts covered area on the grid
        else:
            # Geometry work that releases the GIL: it runs beside the siting below
            # and is joined before the first table needs it.
            exact = _SIDE.submit(reuse.kept, ds, "exact", exact_key,
                                 lambda: coverage.exact_covered_km2(g.regions.geometry, sx, sy,
                                                                    cov.reach))
    secs["coverage"] = time.perf_counter() - t
    unit = "people" if dem is not None else "km2"
    w = dem.weights if dem is not None else np.full(len(g), g.cell_km2)
    sites = gpd.GeoDataFrame({"rank": [], "lon": [], "lat": [], "adds": [], "cumulative": [],
                              "county_adcode": [], "county": [], "city": [], "name": [],
                              "road": [], "cross_road": [], "place": []},
                             geometry=gpd.GeoSeries([], crs="EPSG:4326"))
    base_cov = float(w[cov.covered].sum())
    curve = [{"n": 0, "covered": base_cov, "share": base_cov / max(float(w.sum()), 1e-9)}]
    cert: dict[str, Any] = {}
    if p.n > 0:
        say("suggest")
        t = time.perf_counter()
        reach = cov.reach
        on_grid = not p.candidates
        if p.candidates:
            clon, clat, names = read_candidates(p.candidates)
            cx, cy = grid.to_metric(clon, clat)
            # A scoped run suggests sites inside its area only.
            inside = g.locate(cx, cy) >= 0 if scope.is_scoped(g) else np.ones(len(cx), bool)
            if not inside.any():
                raise invalid("candidates", f"no candidate site lies inside {g.name}")
            cx, cy = cx[inside], cy[inside]
            names = np.asarray(names, dtype=object)[inside].tolist()
        else:
            step = max(1, round(reach / 4 / g.cell))
            rows, cols = g.rows_cols()
            on = (rows % step == 0) & (cols % step == 0)
            cx, cy = g.x[on], g.y[on]
            names = [""] * len(cx)
        block = max(g.cell, reach / 10)
        on_grid = on_grid and int(block // g.cell) == 1 and net is None

        def build() -> siting.Problem:
            say("matrix")
            dx, dy, dw = _aggregate(g, np.where(cov.covered, 0.0, w), block)
            cover: Callable[..., Any]
            if on_grid:
                def cover(ddx: np.ndarray, ddy: np.ndarray, ccx: np.ndarray,
                          ccy: np.ndarray, r: float) -> Any:
                    # Demand and candidates are cell centres here: the stencil is exact.
                    return lattice.matrix(g, g.locate(ddx, ddy), g.locate(ccx, ccy), r)


            else:
                cover = net.coverage_matrix if net is not None else siting.coverage_matrix
            # Cells of one grid almost never share their candidate set: no merging.
            return siting.reduce(p.radius, (cx, cy), (dx, dy, dw), detour=cov.detour,
                                 cover=cover, merge=not on_grid)

        prob_key = reuse.key(coverage=cov_key, candidates=reuse.file_key(p.candidates)
                             if p.candidates else "")
        prob = reuse.kept(ds, "problem", prob_key, build)
        target = float(cfg.get("SUGGEST_TARGET_GAP", 0.0))
        limit = float(cfg["SUGGEST_FIRST_SECONDS" if first else "SUGGEST_TIME_LIMIT"])
        sol = siting.solve(prob, p.n, time_limit=limit, target_gap=target, progress=say)
        pending = pending or (first and sol.gap > target)
        chosen_x, chosen_y = cx[sol.sites], cy[sol.sites]
        # Count on the fine grid what each site adds, in the order they were chosen.
        first_site = np.full(len(g), len(sol.sites), dtype=np.int64)
        if net is not None:
            reached = net.coverage_matrix(g.x, g.y, chosen_x, chosen_y, reach)
            hits = np.split(reached.indices, reached.indptr[1:-1])
        elif on_grid:
            reached = lattice.matrix(g, np.arange(len(g)), g.locate(chosen_x, chosen_y), reach)
            hits = np.split(reached.indices, reached.indptr[1:-1])
        else:
            tree = cKDTree(np.column_stack([g.x, g.y]))
            hits = tree.query_ball_point(np.column_stack([chosen_x, chosen_y]), r=reach)
        for k in range(len(sol.sites) - 1, -1, -1):
            first_site[np.asarray(hits[k], dtype=np.int64)] = k
        first_site[cov.covered] = len(sol.sites)
        adds = np.bincount(first_site, weights=w,
                           minlength=len(sol.sites) + 1)[:len(sol.sites)]
        cum = base_cov + np.cumsum(adds)
        curve += [{"n": k + 1, "covered": float(c), "share": float(c) / max(float(w.sum()),
                                                                              1e-9)}
                  for k, c in enumerate(cum)]
        lon, lat = grid.to_wgs84(chosen_x, chosen_y)
        # Named by the nearest streets of the configured graph, whichever distance is used.
        road, cross = nearest_roads(net or network_distance.load(cfg), chosen_x, chosen_y)
        place, _ = nearest_places(osm_search.configured(cfg), lon, lat)
        site_pos = g.locate(chosen_x, chosen_y)
        reg = g.regions.iloc[g.region[np.maximum(site_pos, 0)]]
        outside = site_pos < 0
        sites = gpd.GeoDataFrame({
            "rank": np.arange(1, len(lon) + 1), "lon": lon.round(6), "lat": lat.round(6),
            "adds": adds.round(1), "cumulative": cum.round(1),
            "county_adcode": np.where(outside, "", reg["county_adcode"].astype(str)),
            "county": np.where(outside, "", reg["county"].astype(str)),
            "city": np.where(outside, "", reg["city"].astype(str)),
            "name": [names[i] for i in sol.sites], "road": road, "cross_road": cross,
            "place": place},
            geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")
        after = np.bincount(g.region, weights=w * (first_site < len(sol.sites)),
                            minlength=len(g.regions))
        base_w = np.bincount(g.region, weights=w, minlength=len(g.regions))
        cov_w = np.bincount(g.region, weights=w * cov.covered, minlength=len(g.regions))
        counties = _counties(cov, exact)
        counties["share_after"] = np.divide(cov_w + after, base_w, out=np.full(len(base_w),
                                            np.nan), where=base_w > 0)
        cert = {"objective": sol.objective, "bound": sol.bound, "gap": sol.gap,
                "lp_bound": sol.lp_bound, "mip_bound": sol.mip_bound,
                "lagrangian_bound": sol.lagrangian_bound,
                "greedy_objective": sol.greedy_objective, "swaps": sol.swaps,
                "status": sol.status, "candidates": len(cx),
                "demand_points": prob.demand_points, "reduced_rows": sol.reduced_rows,
                "reduced_cols": sol.reduced_cols,
                "seconds": {k: round(v, 3) for k, v in sol.seconds.items()}}
        secs["suggest"] = time.perf_counter() - t
    else:
        counties = _counties(cov, exact)
    if exact is not None:
        cov = dataclasses.replace(cov, exact_km2=exact.result())
    prov = coverage.table(cov, by="province").iloc[0].to_dict()
    prov["distance"] = cov.distance_kind
    prov["network_version"] = cov.network_version
    return Plan(params=p, version=ds.version, demo=ds.demo, unit=unit, counties=counties,
                cities=coverage.table(cov, by="city"),
                province={str(k): (v.item() if hasattr(v, "item") else v) for k, v in prov.items()},
                gaps=coverage.gaps(cov), suggestions=sites, curve=curve, certificate=cert,
                headline=scope.headline(ds, g), seconds=secs, cov=cov, provisional=pending)
