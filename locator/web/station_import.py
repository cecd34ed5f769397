"""An officer's station list, imported through the web: check first, then publish.

The file goes through the same engine as ``locator import`` (:mod:`locator.ingest`),
with two limits of the write path on top: the stations are the officer's union's
own source (``union-<adcode>``), so a publish replaces only that source's
stations and never another's; and rows whose point lies outside the officer's
subtree are rejected in the row-by-row report, like any other bad row.

:func:`check` keeps the upload under ``DATA_DIR/uploads/<token>/`` and returns the
report; :func:`publish` checks the kept file again against the live data, under
the station store's writer lock, and publishes it with one audit entry. The audit
entry and the new version go together (see :mod:`locator.living.audited`):
a refused file, a failed check or a failed publish leaves both as they were.

It sits in the web layer because it joins two of the layer below, the import
engine and the write path, which do not know each other; it uses no Flask.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import shutil
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd

from locator.errors import LocatorError, not_found
from locator.ingest import pipeline
from locator.ingest.dedupe import Plan
from locator.ingest.read import Limits
from locator.ingest.report import ImportRefusedError, refusal_row
from locator.living import audited, unions
from locator.living.models import AuditEntry
from locator.storage import base

SUFFIXES = (".csv", ".txt", ".xlsx", ".gpkg", ".geojson", ".json", ".zip")
#: The format of a file whose name has no suffix of :data:`SUFFIXES`, by the media type
#: its multipart part was sent with (the OpenAPI document lists these).
MEDIA_SUFFIXES = {"text/csv": ".csv", "application/geo+json": ".geojson",
                  "application/geopackage+sqlite3": ".gpkg", "application/zip": ".zip",
                  "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx"}
CRS_CHOICES = ("", "wgs84", "gcj02", "bd09", "cgcs2000")
KEEP_DAYS = 2.0  # how long a checked upload waits to be published
_TOKEN_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")


@dataclass(frozen=True)
class Checked:
    """A checked upload: its token, the report rows and what a publish would change."""

    token: str
    source: str
    union: str
    file_name: str
    rows_read: int
    accepted: int
    report: list[dict[str, Any]]
    summary: dict[str, Any]


def source_of(union: str) -> str:
    """The source a union's web imports replace."""
    return f"union-{union}"


def _folder(cfg: Mapping[str, Any], token: str) -> Path:
    if not (20 <= len(token) <= 64) or not set(token) <= _TOKEN_CHARS:
        raise not_found("no such import", "token")
    return Path(cfg["DATA_DIR"]) / "uploads" / token


def _union_for(roles: Mapping[str, str], union: str | None, boundaries_dir: str) -> str:
    """The union the import is for: one the officer holds an editor or admin role on."""
    mine = sorted(u for u, r in roles.items() if r in ("editor", "admin"))
    if not mine:
        raise LocatorError(403, "forbidden", "importing stations needs an editor or admin role")
    chosen = str(union).strip() if union else mine[0]
    unions.check(chosen, boundaries_dir)
    if chosen not in mine:
        raise LocatorError(403, "forbidden", "you hold no role on that union", "union")
    return chosen


def _options(meta: Mapping[str, Any]) -> pipeline.ImportOptions:
    return pipeline.ImportOptions(source=meta["source"], kind=meta.get("kind") or None,
                                  crs=meta.get("crs") or None, sheet=meta.get("sheet") or None)


def _run(cfg: Mapping[str, Any], src: base.StationSource, path: Path,
         meta: Mapping[str, Any]) -> tuple[pipeline.ImportResult, Plan]:
    """Read and check the file against the live data; keep only rows inside the subtree."""
    if src.version() is None:
        # With nothing published the map shows the demo file, which an import drops
        # (see base_frame): one county's list would then become the whole map.
        raise LocatorError(409, "no_live_version", "no station list is published yet; the "
                           "first one is imported with `locator import`, the web import "
                           "keeps it up to date", "file")
    live = src.base_frame()
    limits = Limits(max_rows=cfg["IMPORT_MAX_ROWS"], max_bytes=cfg["IMPORT_MAX_BYTES"],
                    max_cell=cfg["IMPORT_MAX_CELL_CHARS"])
    result = pipeline.read_stations(path, _options(meta), boundaries_dir=cfg["BOUNDARIES_DIR"],
                                    limits=limits, duplicate_m=cfg["IMPORT_DUPLICATE_M"],
                                    existing=live, progress=False)
    area = unions.counties_under(meta["union"], cfg["BOUNDARIES_DIR"])
    st = result.stations
    outside = ~st["county_adcode"].isin(area).to_numpy()
    if outside.any():
        result.report.add("outside_subtree", st["_row"].to_numpy()[outside], "county_adcode",
                          st["county"].to_numpy(dtype=object)[outside],
                          st["county"].to_numpy(dtype=object)[outside])
        result.stations = st[~outside]
    if result.stations.empty:
        raise ImportRefusedError("no row lies inside your union's area; nothing to import",
                                 "没有任何一行在本工会辖区内，没有可导入的站点",
                                 report=result.report)
    plan = pipeline.plan_import(result, live, max_vanish=cfg["IMPORT_MAX_VANISH_SHARE"],
                                force=False)
    return result, plan


def _report_rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    rows = frame.astype(object).where(frame.notna(), None)
    rows["row"] = frame["row"].to_numpy(dtype=np.int64) + 1  # as a spreadsheet numbers them
    return cast(list[dict[str, Any]], rows.to_dict("records"))


def refused_rows(exc: ImportRefusedError) -> list[dict[str, Any]]:
    """The report of a refused file, the refusal first, as the CLI's report CSV has it."""
    return [refusal_row(exc.zh, exc.message, exc.field), *_report_rows(exc.report.frame())]


def check(cfg: Mapping[str, Any], src: base.StationSource, data: bytes, file_name: str, *,
          roles: Mapping[str, str], actor: str, union: str | None = None,
          crs: str | None = None, kind: str | None = None,
          media_type: str | None = None) -> Checked:
    """Keep an upload and check it; a refused file raises :class:`ImportRefusedError`
    (its ``report`` holds the rows) and is not kept. ``media_type`` is the part's own,
    which tells the format when the file name does not."""
    chosen = _union_for(roles, union, cfg["BOUNDARIES_DIR"])
    suffix = Path(file_name).suffix.lower()
    if suffix not in SUFFIXES:
        suffix = MEDIA_SUFFIXES.get(str(media_type or "").lower(), suffix)
    if suffix not in SUFFIXES:
        raise LocatorError(400, "invalid_parameter", "the file must be CSV, XLSX, GeoPackage, "
                           "GeoJSON or a zipped Shapefile", "file")
    if len(data) > int(cfg["IMPORT_MAX_BYTES"]):
        raise LocatorError(413, "too_large", "the file is larger than IMPORT_MAX_BYTES", "file")
    if crs not in (None, *CRS_CHOICES):
        raise LocatorError(400, "invalid_parameter", "crs must be wgs84, gcj02, bd09 or "
                           "cgcs2000", "crs")
    token = secrets.token_urlsafe(24)
    folder = _folder(cfg, token)
    with base.writable(str(folder.parent)):
        folder.mkdir(parents=True)
    _forget_old(folder.parent)
    path = folder / f"upload{suffix}"
    path.write_bytes(data)
    meta = {"actor": actor, "union": chosen, "source": source_of(chosen),
            "file_name": Path(file_name).name[:200], "crs": crs or "", "kind": kind or "",
            "suffix": suffix}
    try:
        result, plan = _run(cfg, src, path, meta)
    except Exception:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    (folder / "meta.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    return Checked(token, meta["source"], chosen, meta["file_name"], result.rows_read,
                   len(result.stations), _report_rows(result.report.frame()), plan.summary())


def _forget_old(uploads: Path, days: float = KEEP_DAYS) -> None:
    """Remove checked uploads nobody published within ``days``."""
    cutoff = time.time() - days * 86400
    for old in uploads.iterdir():  # a handful of folders, not rows
        with contextlib.suppress(OSError):
            if old.stat().st_mtime < cutoff:
                shutil.rmtree(old, ignore_errors=True)


def publish(cfg: Mapping[str, Any], src: base.StationSource, token: str, *,
            roles: Mapping[str, str], actor: str) -> dict[str, Any]:
    """Publish a checked upload of this officer; returns the summary and the version."""
    folder = _folder(cfg, token)
    try:
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise not_found("no such import; check the file again", "token") from None
    if meta.get("actor") != actor:
        raise not_found("no such import; check the file again", "token")
    _union_for(roles, meta["union"], cfg["BOUNDARIES_DIR"])  # the role may have gone since
    with src.lock():
        result, plan = _run(cfg, src, folder / f"upload{meta['suffix']}", meta)
        summary = plan.summary()
        version = None
        if plan.added or plan.updated or plan.removed:
            entry = AuditEntry(actor=actor, action="import", station_id=None, before=None,
                               after=json.dumps({**summary, "union": meta["union"],
                                                 "file": meta["file_name"],
                                                 "rows_read": result.rows_read,
                                                 "accepted": len(result.stations)},
                                                ensure_ascii=False, default=str))
            # One audit entry and the version, together (see the module's notes).
            version = audited.publish(cfg, src, plan.frame, [entry], meta={
                "action": "import", "source": meta["source"], "file": meta["file_name"],
                "by": actor, "crs": result.crs, **summary})
    shutil.rmtree(folder, ignore_errors=True)
    return {"version": version, "summary": summary, "source": meta["source"]}
