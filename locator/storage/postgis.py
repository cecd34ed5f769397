"""The PostgreSQL/PostGIS station source, chosen by ``DATABASE_URL``.

Each published version is a row of ``station_versions`` and its stations are
one partition of ``stations`` (GiST-indexed points). A publish copies the rows
into a new table with ``COPY``, attaches it (building its indexes once), marks
the version complete, moves ``live_version`` and sends ``NOTIFY
locator_version`` in one transaction, so other processes see either
the old version or the whole new one; a publish that dies half-way leaves
nothing behind. Loading copies the live rows out as CSV in one statement and
builds the dataset from whole columns. Migrations (Alembic, shipped in
``locator/storage/migrations``) run on first use and via ``locator db upgrade``.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import psycopg
import psycopg.sql
import sqlalchemy as sa

from locator.domain import schema
from locator.errors import LocatorError, not_found
from locator.stations import dataset, served, snapshot
from locator.storage import base, pgcopy, pgsnapshot, revisions

log = logging.getLogger(__name__)
CHANNEL = "locator_version"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
VERSION_TABLE = "locator_alembic_version"
# The newest revision in ``migrations/versions``; a test holds it to the scripts.
HEAD = "0004"
_LOCK_KEY = 0x10CA7012  # pg_advisory_lock key held by one writer at a time

meta = sa.MetaData()
versions_t = sa.Table(
    "station_versions", meta,
    sa.Column("name", sa.Text, primary_key=True), sa.Column("created", sa.DateTime(True)),
    sa.Column("stations", sa.Integer), sa.Column("meta", sa.JSON),
    sa.Column("complete", sa.Boolean))
live_t = sa.Table("live_version", meta, sa.Column("one", sa.Boolean, primary_key=True),
                  sa.Column("name", sa.Text))


def partition(version: str) -> str:
    """The table holding one version's stations (see migration 0002)."""
    return "stations_" + hashlib.md5(version.encode(), usedforsecurity=False).hexdigest()


def engine_for(url: str, *, timeout: float) -> sa.Engine:
    """An engine over psycopg 3 that gives up quickly when the server is away."""
    if url.startswith(("postgresql://", "postgres://")):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    ms = int(timeout * 1000)
    return sa.create_engine(
        url, pool_pre_ping=True, pool_size=5, max_overflow=5, pool_timeout=timeout,
        connect_args={"connect_timeout": max(1, round(timeout)),
                      "options": f"-c statement_timeout={ms} -c lock_timeout={ms}"})


def upgrade(engine: sa.Engine) -> None:
    """Bring the database schema to the newest migration."""
    if revisions.at_head(engine, table=VERSION_TABLE, head=HEAD):
        return
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        # Only one process migrates at a time; the others wait, then find it done.
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY + 1})
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


class PostgisSource:
    """:class:`~locator.storage.base.StationSource` in PostgreSQL/PostGIS."""

    def __init__(self, url: str, *, fallback: str | Path, timeout: float = 3.0,
                 snapshots: str | Path | None = None) -> None:
        self.url = url
        self.fallback = Path(fallback)
        # Where served snapshots of versions are kept on this host (None: none).
        self.snapshots = Path(snapshots) if snapshots is not None else None
        self.timeout = timeout
        self.engine = engine_for(url, timeout=timeout)
        self._ready = False
        self._listener: threading.Thread | None = None
        self._stop = threading.Event()
        self._stamp_cache: tuple[str, pd.DataFrame] | None = None

    def describe(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    @contextlib.contextmanager
    def _db(self, what: str) -> Iterator[None]:
        """Turn an unreachable or failing server into the standard 503."""
        try:
            if not self._ready:
                upgrade(self.engine)
                self._ready = True
            yield
        except (sa.exc.OperationalError, sa.exc.InterfaceError, psycopg.OperationalError) as exc:
            log.warning("database unavailable while %s: %s", what, exc)
            raise base.unavailable(what, exc) from None
        except sa.exc.DBAPIError as exc:
            if isinstance(exc.orig, psycopg.errors.QueryCanceled | psycopg.errors.LockNotAvailable):
                raise base.unavailable(what, exc) from None
            raise

    # -- reading -------------------------------------------------------------------------
    def version(self) -> str | None:
        with self._db("reading the live version"), self.engine.connect() as conn:
            return conn.execute(sa.select(live_t.c.name)).scalar_one_or_none()

    def versions(self) -> list[base.VersionInfo]:
        q = sa.select(versions_t.c.name, versions_t.c.meta).where(versions_t.c.complete) \
            .order_by(versions_t.c.name)
        with self._db("listing versions"), self.engine.connect() as conn:
            return [base.VersionInfo(n, dict(m or {})) for n, m in conn.execute(q)]

    def frame(self, name: str | None = None) -> gpd.GeoDataFrame:
        name = name if name is not None else self.version()
        if name is None:
            return dataset.normalise(dataset.read(self.fallback).frame)
        with self._db("reading stations"):
            raw = self._copy_out(name)
        frame = dataset.normalise(raw)
        frame[base.HASH] = raw[base.HASH].to_numpy(np.int64)
        frame[base.MODIFIED_AT] = pd.to_datetime(raw[base.MODIFIED_AT], utc=True).to_numpy()
        return frame

    def load(self, name: str | None = None) -> dataset.Dataset:
        name = name if name is not None else self.version()
        if name is None:
            return dataset.read(self.fallback)
        with self._db("loading stations"):
            expect, created = self._expected(name)

        def build() -> dataset.Dataset:
            with self._db("loading stations"):
                raw = self._copy_out(name)
            if len(raw) != expect:
                from locator.storage.checks import BadVersionError

                raise BadVersionError(name, f"holds {len(raw)} rows, its metadata says {expect}")
            return base.to_dataset(raw, name)

        folder = self._snapshot(name, expect, created)
        shared = pgsnapshot.PgShared(self.engine, name) if folder is not None else None
        return served.cached(folder, build, shared=shared)

    def _snapshot(self, name: str, rows: int, created: Any) -> Path | None:
        """This host's snapshot folder for a version, named so it cannot be mistaken.

        A version's rows never change once it is complete; the server, the
        database, the row count and the creation time in the name keep a
        snapshot of a dropped and re-created database from being reused.
        """
        if self.snapshots is None:
            return None
        where = hashlib.sha256(self.describe().encode()).hexdigest()[:10]
        stamp = created.timestamp() if hasattr(created, "timestamp") else 0
        parent = self.snapshots / f"postgis-{where}"
        folder = parent / f"{name}.{rows}.{int(stamp * 1e6)}"
        if not folder.is_dir():
            with contextlib.suppress(OSError):
                parent.mkdir(parents=True, exist_ok=True)
                # Only the live version and the few newest are worth keeping.
                keep = {p.name for p in sorted(parent.iterdir(), key=_mtime)[-2:]}
                snapshot.sweep(parent, keep=keep | {folder.name})
        return folder

    def _expected(self, name: str) -> tuple[int, Any]:
        q = sa.select(versions_t.c.stations, versions_t.c.created) \
            .where(versions_t.c.name == name, versions_t.c.complete)
        with self.engine.connect() as conn:
            got = conn.execute(q).one_or_none()
        if got is None or got[0] is None:
            raise not_found(f"no published version {name!r}", "version")
        return int(got[0]), got[1]

    def _copy_out(self, name: str) -> gpd.GeoDataFrame:
        """All of a version's rows in one COPY, parsed by pandas as whole columns."""
        cols = ", ".join(f'"{c}"' for c in (*schema.FIELDS, base.HASH, base.MODIFIED_AT))
        frame = pgcopy.read_stations(self._copy_to(
            f"SELECT {cols}, ST_X(geom) AS x, ST_Y(geom) AS y FROM stations WHERE version = {{}}",
            name))
        self._remember(name, frame)
        return frame

    def _copy_to(self, select: str, name: str) -> io.BytesIO:
        """The CSV (with a header) of ``select``, its ``{}`` filled with ``name`` as a literal."""
        sql = psycopg.sql.SQL(f"COPY ({select}) TO STDOUT WITH (FORMAT csv, HEADER true, "
                              f"NULL '{pgcopy.NULL}')") \
            .format(psycopg.sql.Literal(name))
        buf = io.BytesIO()
        raw = self.engine.raw_connection()
        try:
            with raw.cursor() as cur:  # type: ignore[attr-defined]
                # A big version may take longer to send than one short statement.
                cur.execute("SET statement_timeout = 0")
                with cur.copy(sql) as cp:
                    for chunk in cp:
                        buf.write(chunk)
                cur.execute("RESET statement_timeout")
        finally:
            raw.close()
        buf.seek(0)
        return buf

    def _remember(self, name: str, frame: pd.DataFrame) -> None:
        """Keep a version's change stamps: versions never change, and the next publish
        compares against the live one, which is usually the one just written or loaded."""
        self._stamp_cache = (name, pd.DataFrame(frame[["id", base.HASH, base.MODIFIED_AT]]))

    def base_frame(self) -> gpd.GeoDataFrame:
        if self.version() is None:  # the demo file is never carried into real data
            frame = dataset.normalise(dataset.read(self.fallback).frame) \
                if self.fallback.is_file() else None
            if frame is None or (len(frame) and bool(frame["demo"].all())):
                from locator.storage.files import empty_frame

                return empty_frame()
            return frame
        return self.frame()

    # -- writing -------------------------------------------------------------------------
    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        with self._db("taking the import lock"), self.engine.connect() as conn:
            got = conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)"),
                               {"k": _LOCK_KEY}).scalar_one()
            conn.commit()
            if not got:
                raise LocatorError(409, "busy", "another import or rollback is running; "
                                   "try again when it has finished")
            try:
                yield
            finally:
                with contextlib.suppress(sa.exc.DBAPIError):
                    conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": _LOCK_KEY})
                    conn.commit()

    def publish(self, frame: gpd.GeoDataFrame, *, meta: dict[str, Any],
                now: datetime | None = None) -> str:
        with self._db("publishing"):
            live = self.version()
            previous = self._stamps(live) if live else None
            stamped = base.stamp_modified(frame, previous, now=now)
            digest = pd.util.hash_pandas_object(stamped[base.HASH], index=False).sum()
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
            name = f"{stamp}-{int(digest) & 0xFFFFFFFFFFFF:012x}"
            sources = stamped["source"].fillna("").value_counts().to_dict() if len(stamped) \
                else {}
            info = {"version": name,
                    "created": datetime.now(UTC).isoformat(timespec="seconds"),
                    "stations": len(stamped),
                    "sources": {str(k): int(v) for k, v in sources.items()}, **meta}
            with pgcopy.long_transaction(self.engine) as cur:
                cur.execute("INSERT INTO station_versions (name, stations, meta) "
                            "VALUES (%s, %s, %s)",
                            (name, len(stamped), json.dumps(info, ensure_ascii=False)))
                self._copy_in(cur, name, stamped)
                cur.execute("UPDATE station_versions SET complete = true WHERE name = %s",
                            (name,))
                self._point(cur, name)
            self._remember(name, stamped)
        return name

    @staticmethod
    def _copy_in(cur: Any, name: str, frame: gpd.GeoDataFrame) -> None:
        """Load the version into a table of its own with one COPY of CSV built column by
        column, then attach it as a partition: the indexes are built once, after the load."""
        part = psycopg.sql.Identifier(partition(name))
        cur.execute(psycopg.sql.SQL("CREATE TABLE {} (LIKE stations INCLUDING DEFAULTS)")
                    .format(part))
        with cur.copy(pgcopy.copy_in_sql(part.as_string(cur))) as cp:
            cp.write(pgcopy.to_csv(frame, name))
        cur.execute(psycopg.sql.SQL("ALTER TABLE stations ATTACH PARTITION {} FOR VALUES IN ({})")
                    .format(part, psycopg.sql.Literal(name)))

    @staticmethod
    def _point(cur: Any, name: str) -> None:
        cur.execute("INSERT INTO live_version (one, name) VALUES (true, %s) "
                    "ON CONFLICT (one) DO UPDATE SET name = excluded.name", (name,))
        cur.execute("SELECT pg_notify(%s, %s)", (CHANNEL, name))

    def _stamps(self, name: str) -> pd.DataFrame:
        if self._stamp_cache is not None and self._stamp_cache[0] == name:
            return self._stamp_cache[1]
        stamps = pgcopy.read_stamps(self._copy_to(
            f'SELECT id, "{base.HASH}", "{base.MODIFIED_AT}" FROM stations WHERE version = {{}}',
            name))
        self._remember(name, stamps)
        return stamps

    def rollback(self, name: str | None = None) -> str:
        names = [v.name for v in self.versions()]
        cur = self.version()
        older = [n for n in names if cur is not None and n < cur] if name is None else []
        chosen = base.choose_version(names, name, older)
        with self._db("switching version"), self.engine.begin() as conn:
            self._point(conn.connection.cursor(), chosen)
        return chosen

    def withdraw(self, name: str, previous: str | None) -> None:
        with self._db("withdrawing a version"), self.engine.begin() as conn:
            cur = conn.connection.cursor()
            if previous is None:
                cur.execute("DELETE FROM live_version")
                cur.execute("SELECT pg_notify(%s, %s)", (CHANNEL, ""))
            else:
                self._point(cur, previous)
            cur.execute(f'DROP TABLE IF EXISTS "{partition(name)}"')
            cur.execute("DELETE FROM station_versions WHERE name = %s", (name,))
        if self._stamp_cache is not None and self._stamp_cache[0] == name:
            self._stamp_cache = None

    def prune(self, keep: int) -> list[str]:
        if keep < 1:
            raise LocatorError(400, "invalid_parameter", "keep at least one version", "keep")
        cur = self.version()
        names = [v.name for v in self.versions()]
        doomed = [n for n in names[:-keep] if n != cur]
        with self._db("deleting versions"), self.engine.begin() as conn:
            conn.execute(sa.text("SET LOCAL statement_timeout = 0"))
            # Dropping a partition waits for reads of the table to finish.
            conn.execute(sa.text("SET LOCAL lock_timeout = '30s'"))
            # Incomplete versions cannot exist after a commit, but sweep them anyway.
            gone = [*doomed, *conn.execute(
                sa.select(versions_t.c.name).where(~versions_t.c.complete)).scalars()]
            for n in gone:
                conn.execute(sa.text(f'DROP TABLE IF EXISTS "{partition(n)}"'))
            conn.execute(versions_t.delete().where(versions_t.c.name.in_(gone)))
        return doomed

    # -- change notices ------------------------------------------------------------------
    def changes(self, timeout: float) -> str | None:
        dsn = self.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        with self._db("waiting for a change"), \
                psycopg.connect(dsn, autocommit=True, connect_timeout=max(1, round(self.timeout))
                                ) as conn:
            conn.execute(f"LISTEN {CHANNEL}")
            for note in conn.notifies(timeout=timeout, stop_after=1):
                return str(note.payload)
        return None

    def listen(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` on every NOTIFY, from a daemon thread that reconnects by itself.

        It also calls it on each (re)connection, so a version published while the
        server was away is picked up as soon as it is back. :meth:`close` stops it.
        """
        if self._listener is not None:
            return
        dsn = self.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)

        def run() -> None:
            while not self._stop.is_set():
                try:
                    with psycopg.connect(dsn, autocommit=True,
                                         connect_timeout=max(1, round(self.timeout))) as conn:
                        conn.execute(f"LISTEN {CHANNEL}")
                        callback()
                        while not self._stop.is_set():
                            # A short wait, so that close() is heard within a second.
                            if any(True for _ in conn.notifies(timeout=1.0)):
                                callback()
                except Exception as exc:  # the server is away: retry, polling covers the gap
                    if self._stop.is_set():
                        return
                    log.info("LISTEN %s failed (%s); retrying", CHANNEL, exc)
                    self._stop.wait(min(5.0, self.timeout))

        self._listener = threading.Thread(target=run, daemon=True, name="locator-listen")
        self._listener.start()

    def close(self) -> None:
        """Stop the LISTEN thread and close the pooled connections."""
        self._stop.set()
        if self._listener is not None:
            self._listener.join(self.timeout + 2.0)
        self.engine.dispose()


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0
