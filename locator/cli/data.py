"""``locator import``, ``export``, ``datasets`` and ``rollback``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
import sqlalchemy as sa

from locator import config
from locator.cli import tabular
from locator.errors import LocatorError
from locator.ingest import pipeline
from locator.ingest.report import REASONS
from locator.living import flagcols, flags
from locator.stations import export as export_mod
from locator.storage import base


def _fail(exc: LocatorError, code: int = 2) -> None:
    click.echo(json.dumps(exc.to_dict(), ensure_ascii=False), err=True)
    sys.exit(code)


def _source(cfg: dict[str, Any]) -> base.StationSource:
    try:
        return base.open_source(cfg)
    except LocatorError as exc:
        _fail(exc)
        raise


@click.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--source", default=None, help="Whose list this is (default: the file name). "
              "Re-importing a source replaces its stations.")
@click.option("--kind", default=None, help="Kind for rows without one: rest_station, "
              "driver_home or reading_room.")
@click.option("--crs", default=None, help="Datum of the coordinates: wgs84, gcj02 (Amap, "
              "Tencent), bd09 (Baidu), cgcs2000 or EPSG:n.")
@click.option("--sheet", default=None, help="XLSX sheet (name or number) or vector layer.")
@click.option("--encoding", default=None, help="CSV encoding (default: detect UTF-8/GBK).")
@click.option("--mapping", default=None, type=click.Path(dir_okay=False),
              help="JSON or TOML file naming other headers, kind and amenity words.")
@click.option("--approximate", is_flag=True,
              help="Place rows without coordinates at their county's centre, marked approximate.")
@click.option("--merge-duplicates", is_flag=True,
              help="Keep only the first of near-duplicate stations instead of flagging them.")
@click.option("--force", is_flag=True, help="Publish even if many of the source's stations "
              "would disappear.")
@click.option("--dry-run", is_flag=True, help="Check and report; publish nothing.")
@click.option("--report", "report_path", default=None, type=click.Path(dir_okay=False),
              help="Where to write the report CSV (default: DATA_DIR/reports/).")
def import_cmd(file: str, source: str | None, kind: str | None, crs: str | None,
               sheet: str | None, encoding: str | None, mapping: str | None,
               approximate: bool, merge_duplicates: bool, force: bool, dry_run: bool,
               report_path: str | None) -> None:
    """Import a station list (CSV, XLSX, GeoJSON, GeoPackage, zipped Shapefile)."""
    opts = pipeline.ImportOptions(source=source, kind=kind, crs=crs, sheet=sheet,
                                encoding=encoding, mapping=mapping, approximate=approximate,
                                merge_duplicates=merge_duplicates)
    try:
        out = pipeline.run_import(file, opts, config=config.load(), force=force,
                                dry_run=dry_run, report_path=report_path)
    except LocatorError as exc:
        _fail(exc)
        return
    if out.refused is not None:
        refusal = out.refused
        click.echo(f"导入被拒绝 / import refused: {refusal.zh}\n  {refusal.message}", err=True)
        click.echo(f"report: {out.report_path}", err=True)
        click.echo("nothing was published; the live data is unchanged", err=True)
        sys.exit(1)
    assert out.result is not None and out.plan is not None
    _summary(out.result, out.result.report.frame(), out.plan.summary())
    click.echo(f"report: {out.report_path}")
    if dry_run:
        click.echo("dry run: nothing was published")
    elif out.version is None:
        click.echo("no station changed; the live version stays")
    else:
        click.echo(f"published version {out.version} ({len(out.plan.frame)} stations)")
        _prepare(out.version)


def _prepare(version: str) -> None:
    """Write the version's served snapshot now, so no server start pays for it.

    Without this the first server (or reload) on this host to load a new
    version reads and indexes it while workers wait; at a million stations
    that is seconds against a fraction of a second for mapping the snapshot.
    A failure here is harmless: the first server builds it instead.
    """
    import time

    t0 = time.perf_counter()
    try:
        _source(config.load()).load(version)
    except Exception as exc:  # the version is live; serving it will say what is wrong
        click.echo(f"served snapshot not prepared ({type(exc).__name__}: {exc}); the first "
                   "server to load the version will build it", err=True)
        return
    click.echo(f"served snapshot ready in {time.perf_counter() - t0:.1f} s")


def _summary(result: pipeline.ImportResult, frame: Any, plan: dict[str, Any]) -> None:
    where = f"{result.fmt}" + (f", {result.encoding}" if result.encoding else "") + \
        (f", sheet {result.sheet}" if result.sheet else "")
    click.echo(f"source {result.source}: read {result.rows_read} rows ({where}; "
               f"coordinates {result.crs})")
    click.echo(f"  accepted {len(result.stations)}, rejected {result.rejected}; "
               f"added {plan['added']}, updated {plan['updated']}, removed {plan['removed']}, "
               f"unchanged {plan['unchanged']}")
    if len(frame):
        counts = frame.groupby(["severity", "code"]).size().reset_index(name="n")
        rows = [[r.severity, REASONS[r.code][1].format(detail="…"), r.code, r.n]
                for r in counts.itertuples()]
        click.echo(tabular.render(["severity", "问题", "code", "rows"], rows))


def _flags(cfg: dict[str, Any]) -> flags.Flags:
    """The feedback flags for an export; without the database the export goes on without."""
    try:
        return flags.read(cfg)
    except LocatorError as exc:
        click.echo(f"warning: {exc.message}; reported and last_verified hold only "
                   "the stations' own verified_at", err=True)
        return flags.Flags()


@click.command("export")
@click.option("--format", "fmt", type=click.Choice(export_mod.FORMATS), default=None,
              help="Output format (default: from the file name).")
@click.option("--crs", default="wgs84", show_default=True,
              type=click.Choice(["wgs84", "gcj02", "bd09", "cgcs2000"]),
              help="Datum of the exported coordinates.")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False))
@click.option("--source", default=None, help="Only this source's stations.")
def export_cmd(fmt: str | None, crs: str, out: str, source: str | None) -> None:
    """Export the live stations."""
    cfg = config.load()
    src = _source(cfg)
    suffixes = {".geojson": "geojson", ".json": "geojson", ".csv": "csv", ".gpkg": "gpkg",
                ".xlsx": "xlsx"}
    fmt = fmt or suffixes.get(Path(out).suffix.lower())
    if fmt is None:
        _fail(LocatorError(400, "invalid_parameter",
                           f"cannot tell the format from {out!r}; give --format", "format"))
        return
    try:
        frame = src.frame()
    except LocatorError as exc:
        _fail(exc)
        return
    frame = frame.drop(columns=[c for c in (base.HASH, base.MODIFIED_AT) if c in frame])
    if source is not None:
        frame = frame[frame["source"] == source]
    frame = flagcols.add_to_frame(frame, _flags(cfg))
    export_mod.write(frame, out, fmt=fmt, crs=crs, progress=True)
    click.echo(f"wrote {len(frame)} stations to {out} ({fmt}, {crs})")


@click.command("datasets")
@click.option("--prune", "keep", type=int, default=None,
              help="Delete all but the KEEP newest versions (never the live one).")
def datasets_cmd(keep: int | None) -> None:
    """List the published versions; * marks the live one."""
    cfg = config.load()
    src = _source(cfg)
    try:
        if keep is not None:
            with src.lock():
                gone = src.prune(keep)
            click.echo(f"deleted {len(gone)} old version(s)")
        cur = src.version()
        versions = src.versions()
    except LocatorError as exc:
        _fail(exc)
        return
    rows = []
    for v in versions:
        m = v.meta
        what = f"{m.get('action', '')} {m.get('source', '')}".strip()
        change = f"+{m.get('added', 0)} ~{m.get('updated', 0)} -{m.get('removed', 0)}" \
            if "added" in m else ""
        rows.append(["*" if v.name == cur else "", v.name, m.get("created", ""),
                     m.get("stations", ""), what, change])
    if not rows:
        click.echo(f"nothing published yet in {src.describe()}; serving {cfg['DATA_PATH']}")
        return
    click.echo(tabular.render(["", "version", "created", "stations", "what", "change"], rows))


@click.command("rollback")
@click.argument("version", required=False)
def rollback_cmd(version: str | None) -> None:
    """Make an earlier version live (default: the one before the live one)."""
    cfg = config.load()
    src = _source(cfg)
    try:
        with src.lock():
            name = src.rollback(version)
    except LocatorError as exc:
        _fail(exc)
        return
    click.echo(f"live version is now {name}")


@click.group("db")
def db_group() -> None:
    """The databases: the write path's tables and the PostGIS station store."""


@db_group.command("upgrade")
def db_upgrade_cmd() -> None:
    """Create or migrate the database tables to the newest schema.

    The write path's tables (accounts, unions, cases, audit) always; the
    station store's too when DATABASE_URL is set.
    """
    cfg = config.load()
    from locator.living import db as living_db
    from locator.living import schema as living_schema

    living = sa.create_engine(living_db.database_url(cfg))
    where = living.url.render_as_string(hide_password=True)
    try:
        living_schema.upgrade(living)
    except Exception as exc:  # connection refused, permissions: say so plainly
        _fail(LocatorError(503, "storage_unavailable", f"could not migrate {where}: {exc}"))
        return
    finally:
        living.dispose()
    click.echo(f"write-path tables in {where} are at revision {living_schema.head()}")
    if not cfg.get("DATABASE_URL"):
        return
    from locator.storage import postgis

    engine = postgis.engine_for(cfg["DATABASE_URL"], timeout=cfg["DATABASE_TIMEOUT"])
    try:
        postgis.upgrade(engine)
    except Exception as exc:  # connection refused, permissions: say so plainly
        _fail(LocatorError(503, "storage_unavailable",
                           f"could not migrate {engine.url.render_as_string()}: {exc}"))
        return
    finally:
        engine.dispose()
    click.echo(f"database {engine.url.render_as_string()} is at the newest schema")


COMMANDS = (import_cmd, export_cmd, datasets_cmd, rollback_cmd, db_group)
