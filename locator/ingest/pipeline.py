"""The import engine: a station list file -> checked stations and a row-by-row report.

It knows nothing of Flask or the command line. :func:`read_stations` reads and
checks one file; :func:`plan_import` also merges the result into the live
dataset, replacing the file's source. Publishing is :mod:`locator.storage`.

Every check runs over whole columns; text work (kind words, amenity words,
hours) is done once per distinct value.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from locator.domain import schema
from locator.errors import invalid
from locator.geo import regions
from locator.ingest import coords
from locator.ingest.columns import Columns, header_score, load_mapping, recognise
from locator.ingest.dedupe import Plan, near_duplicates, near_existing, replace_source, stable_ids
from locator.ingest.fields import attributes, text_fields
from locator.ingest.read import Limits, RawTable, read_table
from locator.ingest.report import ImportRefusedError, Report, write_csv
from locator.progress import Steps
from locator.stations import dataset

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")
@dataclass(frozen=True, kw_only=True)
class ImportOptions:
    """What ``locator import`` is told about a file."""

    source: str | None = None
    kind: str | None = None
    crs: str | None = None
    sheet: str | None = None
    encoding: str | None = None
    mapping: str | Path | None = None
    approximate: bool = False
    merge_duplicates: bool = False


@dataclass
class ImportResult:
    """Accepted stations (schema columns, WGS-84) and the report of everything else."""

    stations: gpd.GeoDataFrame
    report: Report
    source: str
    rows_read: int
    fmt: str = ""
    encoding: str | None = None
    sheet: str | None = None
    crs: str = "wgs84"
    columns: dict[str, str] = field(default_factory=dict)

    @property
    def rejected(self) -> int:
        return self.rows_read - len(self.stations)


def source_name(path: str | Path, options: ImportOptions) -> str:
    return (options.source or Path(path).stem).strip()


def read_stations(path: str | Path, options: ImportOptions, *, boundaries_dir: str | Path,
                  limits: Limits | None = None, duplicate_m: float = 30.0,
                  existing: gpd.GeoDataFrame | None = None, progress: bool = True
                  ) -> ImportResult:
    """Read and check one station list.

    Raises
    ------
    ImportRefusedError
        When the file as a whole cannot be a station list, or no row survives.
    """
    steps = Steps(6, "import", enabled=progress)
    if options.kind is not None and options.kind not in schema.KIND_CODES:
        raise invalid("kind", f"--kind must be one of {', '.join(schema.KIND_CODES)}")
    try:
        crs = coords.check_crs(options.crs) if options.crs else None
    except ValueError as exc:
        raise invalid("crs", str(exc)) from None
    mapping = load_mapping(options.mapping)
    table = read_table(path, encoding=options.encoding, sheet=options.sheet,
                       limits=limits or Limits(),
                       header_score=lambda cells: header_score(cells, mapping))
    steps.step("read")
    rep = Report()
    cols = recognise([str(c) for c in table.frame.columns], mapping)
    header_row = int(table.rows[0]) - 1 if table.fmt != "vector" else 0
    for h in cols.ignored:
        rep.add("column_ignored", [header_row], h, h)
    for h, first in cols.repeated:
        rep.add("column_repeated", [header_row], h, h, first)
    if "name" not in cols.by_field:
        raise ImportRefusedError(
            "no column holds the station name (e.g. 名称, 站点名称, name); columns found: "
            + ", ".join(map(str, table.frame.columns)),
            "没有找到站点名称列（如 名称、站点名称、name）；文件中的列："
            + "、".join(map(str, table.frame.columns)), column="name")
    text = text_fields(table, cols, rep)
    src = source_name(path, options)
    lon, lat, approx, used_crs = _locate(table, cols, text, crs, options, rep, boundaries_dir)
    steps.step("coordinates")
    out = attributes(table, text, mapping, options.kind, rep)
    steps.step("attributes")
    where = regions.assign_counties(lon, lat, boundaries_dir)
    _check_county(table.rows, text["county"], where, approx, rep, boundaries_dir)
    steps.step("counties")
    bad = rep.rejected_rows()
    ok = ~np.isin(table.rows, np.fromiter(bad, dtype=np.int64, count=len(bad)))
    ids = _ids(text["id"], src, out["kind"], out["name"], lon, lat)
    frame = pd.DataFrame({"id": ids, **out, "county_adcode": where["county_adcode"],
                          "county": where["county"], "city": where["city"],
                          "source": src, "demo": False, "approximate": approx,
                          "_row": table.rows, "_lon": lon, "_lat": lat})[ok]
    frame = _dedupe(frame, rep, existing, src, duplicate_m, options.merge_duplicates)
    steps.step("duplicates")
    if frame.empty:
        raise ImportRefusedError("no row could be imported; the report lists why for each row",
                                 "没有任何一行可以导入；报告中逐行列出了原因", report=rep)
    gdf = gpd.GeoDataFrame(frame.drop(columns=["_row", "_lon", "_lat"]),
                           geometry=gpd.points_from_xy(frame["_lon"], frame["_lat"]),
                           crs="EPSG:4326")
    stations = dataset.normalise(gdf)
    stations["_row"] = frame["_row"].to_numpy()
    steps.step("checked")
    steps.close()
    return ImportResult(stations, rep, src, len(table.frame), table.fmt, table.encoding,
                        table.sheet, used_crs, cols.by_field)


def _locate(table: RawTable, cols: Columns, text: dict[str, pd.Series], crs: str | None,
            options: ImportOptions, rep: Report, boundaries_dir: str | Path
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray, str]:
    rows = table.rows
    n = len(rows)
    if table.x is not None and table.y is not None:
        x, y = table.x.copy(), table.y.copy()
        gtype = table.geom_type if table.geom_type is not None else np.full(n, "Point")
        notpt = np.isnan(x) & (gtype != "empty")
        rep.add("not_a_point", rows[notpt], "geometry", gtype[notpt], gtype[notpt])
        missing = np.isnan(x) & ~notpt
        used = crs or _declared_datum(text["datum"]) or "wgs84"
        fc = table.file_crs
        projected: Any = None
        if fc is not None and used == "wgs84" and not (fc.equals("EPSG:4326") or
                                                      fc.equals("EPSG:4490")):
            # The file declares its own CRS (a projected Shapefile, say): trust it.
            projected = fc
            used = fc.to_string() if fc.to_epsg() is None else f"EPSG:{fc.to_epsg()}"
    else:
        projected = None
        lon_f, lat_f, used = _coordinate_columns(cols, crs)
        lon_h, lat_h = cols.by_field[lon_f], cols.by_field[lat_f]
        if lon_f == "coords":
            lon_t, lat_t = coords.split_pairs(table.frame[lon_h].reset_index(drop=True))
        else:
            lon_t = table.frame[lon_h].astype(str).reset_index(drop=True)
            lat_t = table.frame[lat_h].astype(str).reset_index(drop=True)
        x, mx, ux = coords.parse_column(lon_t)
        y, my, uy = coords.parse_column(lat_t)
        missing = (mx | my) & ~(ux | uy)
        bad_x, bad_y = ux, uy & ~ux
        rep.add("coords_unreadable", rows[bad_x], lon_h, lon_t[bad_x].to_numpy(),
                lon_t[bad_x].to_numpy())
        rep.add("coords_unreadable", rows[bad_y], lat_h, lat_t[bad_y].to_numpy(),
                lat_t[bad_y].to_numpy())
    reg = coords.region(boundaries_dir)
    if projected is None and not used.startswith("EPSG:"):
        x, y, swapped = coords.fix_swapped(x, y, reg.bbox)
        rep.add("coords_swapped", rows[swapped], "lon/lat",
                [f"{a:g}, {b:g}" for a, b in zip(y[swapped], x[swapped], strict=True)])
    lon, lat = coords.to_wgs84(x, y, projected if projected is not None else used)
    approx = np.zeros(n, dtype=bool)
    if options.approximate and missing.any():
        lon, lat, approx = _approximate(rows, text["county"], missing, lon, lat, rep,
                                        boundaries_dir)
    else:
        rep.add("coords_missing", rows[missing], "lon/lat")
    approx |= text["approximate"].str.lower().isin(["true", "1", "yes", "是"]).to_numpy()
    located = np.isfinite(lon) & np.isfinite(lat)
    outside = located & ~reg.contains(lon, lat)
    rep.add("outside_region", rows[outside], "lon/lat",
            [f"{a:.6f}, {b:.6f}" for a, b in zip(lon[outside], lat[outside], strict=True)])
    return lon, lat, approx, used


def _declared_datum(values: pd.Series) -> str | None:
    """The datum an export wrote into its ``datum`` column, when there is exactly one."""
    found = set(pd.unique(values[values != ""]))
    if len(found) == 1:
        name = str(found.pop()).lower()
        return name if name in ("wgs84", "gcj02", "bd09", "cgcs2000") else None
    return None


def _coordinate_columns(cols: Columns, crs: str | None) -> tuple[str, str, str]:
    """Which columns hold lon/lat and in what datum.

    Plain 经度/纬度 columns carry no datum, so ``--crs`` must name it: a GCJ-02
    file read as WGS-84 would put every station 500 m off without any sign.
    """
    f = cols.by_field
    plain = "lon" in f and "lat" in f
    if plain or "coords" in f:
        if crs is None:
            raise ImportRefusedError(
                "the coordinate columns do not say their datum; give --crs gcj02 (Amap, "
                "Tencent, WeChat), bd09 (Baidu), wgs84 (GPS) or EPSG:n",
                "坐标列没有注明坐标系；请用 --crs 指定：gcj02（高德、腾讯、微信）、bd09（百度）、"
                "wgs84（GPS）或 EPSG:n", column="crs")
        return ("lon", "lat", crs) if plain else ("coords", "coords", crs)
    for d in ("wgs84", "gcj02", "bd09"):
        if f"lon_{d}" in f and f"lat_{d}" in f and (crs is None or
                                                   coords.check_crs(crs) in (d, "cgcs2000")):
            return f"lon_{d}", f"lat_{d}", d
    raise ImportRefusedError("no longitude/latitude columns (e.g. 经度/纬度, lng/lat) were found",
                             "没有找到经纬度列（如 经度/纬度、lng/lat）", column="lon")


def _approximate(rows: np.ndarray, county: pd.Series, missing: np.ndarray, lon: np.ndarray,
                 lat: np.ndarray, rep: Report, boundaries_dir: str | Path
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    cty = regions.counties(str(boundaries_dir))
    names = cty.drop_duplicates("county", keep=False).set_index("county")
    stated = county.map(_fold_county)
    known = {_fold_county(c): c for c in names.index}
    real = stated.map(known)
    ok = missing & real.notna().to_numpy()
    lon, lat = lon.copy(), lat.copy()
    lon[ok] = names.loc[real[ok], "label_lon"].to_numpy()
    lat[ok] = names.loc[real[ok], "label_lat"].to_numpy()
    rep.add("approximate", rows[ok], "lon/lat", None, real[ok].to_numpy())
    no = missing & ~ok
    rep.add("county_unknown_for_approx", rows[no], "county", county[no].to_numpy(),
            county[no].to_numpy())
    return lon, lat, ok


def _fold_county(text: Any) -> str:
    return unicodedata.normalize("NFKC", str(text)).replace(" ", "").strip()


def _check_county(rows: np.ndarray, stated: pd.Series, where: pd.DataFrame,
                  approx: np.ndarray, rep: Report, boundaries_dir: str | Path) -> None:
    """Flag rows whose stated county is not where their point lies."""
    names = {_fold_county(c) for c in regions.counties(str(boundaries_dir))["county"]}
    s = stated.map(_fold_county)
    actual = where["county"].fillna("").map(_fold_county)
    given = (s != "").to_numpy() & ~approx & (actual != "").to_numpy()
    known = s.isin(names).to_numpy()
    # "金水" for "金水区" is the same county, not a disagreement.
    same = np.array([a == b or (len(b) >= 2 and a.startswith(b))
                     for a, b in zip(actual.to_numpy(), s.to_numpy(), strict=True)], dtype=bool)
    mismatch = given & known & ~same
    rep.add("county_mismatch", rows[mismatch], "county", stated[mismatch].to_numpy(),
            where["county"][mismatch].to_numpy())
    uniq = {v: len(v) >= 2 and any(n.startswith(v) for n in names) for v in pd.unique(s)}
    other = given & ~known & ~s.map(uniq).to_numpy(bool)
    rep.add("county_not_checked", rows[other], "county", stated[other].to_numpy(),
            stated[other].to_numpy())


def _ids(given: pd.Series, source: str, kind: np.ndarray, name: np.ndarray, lon: np.ndarray,
         lat: np.ndarray) -> np.ndarray:
    derived = stable_ids(source, pd.Series(kind).fillna(""), pd.Series(name), lon, lat)
    ok = given.str.match(_ID).to_numpy()
    return np.where(ok, given.to_numpy(object), derived)


def _dedupe(frame: pd.DataFrame, rep: Report, existing: gpd.GeoDataFrame | None, source: str,
            within_m: float, merge: bool) -> pd.DataFrame:
    dup = frame["id"].duplicated(keep="first").to_numpy()
    if dup.any():
        first = frame.drop_duplicates("id").set_index("id")["_row"]
        rep.add("merged", frame["_row"].to_numpy()[dup], "name",
                frame["name"].to_numpy()[dup], frame["id"][dup].map(first).to_numpy())
        frame = frame[~dup]
    if existing is not None and len(existing):
        owner = existing.set_index("id")["source"]
        theirs = frame["id"].map(owner)
        clash = (theirs.notna() & (theirs != source)).to_numpy()
        rep.add("id_of_other_source", frame["_row"].to_numpy()[clash], "id",
                frame["id"].to_numpy()[clash], theirs[clash].to_numpy())
        frame = frame[~clash]
    pairs = near_duplicates(frame["_lon"].to_numpy(float), frame["_lat"].to_numpy(float),
                            frame["kind"].to_numpy(object), frame["name"].to_numpy(object),
                            within_m=within_m)
    if existing is not None and len(existing):
        others = existing[existing["source"] != source]
        hits = near_existing(frame["_lon"].to_numpy(float), frame["_lat"].to_numpy(float),
                             frame["kind"].to_numpy(object), frame["name"].to_numpy(object),
                             others, within_m=within_m)
        if len(hits):
            label = (others["name"].astype(str) + " (" + others["source"].astype(str) + ", "
                     + others["id"].astype(str) + ")").to_numpy(object)
            rep.add("duplicate_other_source", frame["_row"].to_numpy()[hits[:, 0]], "name",
                    frame["name"].to_numpy()[hits[:, 0]], label[hits[:, 1]])
    if len(pairs):
        r = frame["_row"].to_numpy()
        if merge:
            drop = np.unique(pairs[:, 1])
            keep_of = dict(zip(pairs[:, 1].tolist(), pairs[:, 0].tolist(), strict=False))
            rep.add("merged", r[drop], "name", frame["name"].to_numpy()[drop],
                    [str(r[keep_of[i]]) for i in drop])
            frame = frame.drop(index=frame.index[drop])
        else:
            rep.add("duplicate_near", r[pairs[:, 1]], "name",
                    frame["name"].to_numpy()[pairs[:, 1]], r[pairs[:, 0]].astype(str))
            rep.add("duplicate_near", r[pairs[:, 0]], "name",
                    frame["name"].to_numpy()[pairs[:, 0]], r[pairs[:, 1]].astype(str))
    return frame


def plan_import(result: ImportResult, base: gpd.GeoDataFrame, *, max_vanish: float,
                force: bool) -> Plan:
    """Merge an import into ``base``, replacing only the import's source."""
    stations = result.stations.drop(columns=["_row"])
    try:
        return replace_source(base, stations, result.source, max_vanish=max_vanish, force=force)
    except ImportRefusedError as exc:
        exc.report = result.report
        raise


@dataclass
class ImportOutcome:
    """What one import did: checked rows, the merge, the report, the published version."""

    report_path: Path
    result: ImportResult | None = None
    plan: Plan | None = None
    version: str | None = None
    refused: ImportRefusedError | None = None


def run_import(path: str | Path, options: ImportOptions, *, config: Mapping[str, Any],
               force: bool = False, dry_run: bool = False, report_path: str | Path | None = None,
               progress: bool = True) -> ImportOutcome:
    """Check, report and (unless ``dry_run``) publish one file: the whole import.

    ``config`` is the settings mapping (``settings.load()`` or a Flask config).
    A refused file gives an outcome with ``refused`` set and nothing published;
    another import running raises a 409 :class:`~locator.errors.LocatorError`.
    """
    from locator.storage import base

    src = base.open_source(config)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    report = Path(report_path) if report_path else \
        Path(config["DATA_DIR"]) / "reports" / f"{stamp}-{Path(path).stem}.csv"
    limits = Limits(max_rows=config["IMPORT_MAX_ROWS"], max_bytes=config["IMPORT_MAX_BYTES"],
                    max_cell=config["IMPORT_MAX_CELL_CHARS"])
    with src.lock():
        try:
            live = src.base_frame()
            result = read_stations(path, options, boundaries_dir=config["BOUNDARIES_DIR"],
                                   limits=limits, duplicate_m=config["IMPORT_DUPLICATE_M"],
                                   existing=live, progress=progress)
            plan = plan_import(result, live, max_vanish=config["IMPORT_MAX_VANISH_SHARE"],
                               force=force)
        except ImportRefusedError as exc:
            with base.writable(str(report.parent)):
                write_csv(exc.report.frame(), report, refusal=(exc.zh, exc.message))
            return ImportOutcome(report, refused=exc)
        with base.writable(str(report.parent)):
            write_csv(result.report.frame(), report)
        out = ImportOutcome(report, result, plan)
        if dry_run or (src.version() is not None
                       and not (plan.added or plan.updated or plan.removed)):
            return out
        out.version = src.publish(plan.frame, meta={
            "action": "import", "source": result.source, "file": str(Path(path).resolve()),
            "crs": result.crs, **plan.summary()})
        return out
