"""The write path's schema, kept by Alembic migrations in ``living/migrations``.

Its history has its own version table, ``living_alembic_version``, so that it
and the stations' history (``locator_alembic_version``) can share one PostgreSQL
database without either seeing the other's revisions. Every process brings the
schema to the newest revision the first time it opens the database, and
``locator db upgrade`` does it ahead of a deployment.

A database made before the migrations existed, when the tables were created on
first use, has tables but no version table: the first migration keeps the
tables it finds, with their rows, creates the missing ones and records the
revision, after which the database follows the history like any other.

Only one process migrates at a time: on PostgreSQL under an advisory lock held
by the migrating transaction, on SQLite under a lock file beside the database.
The others wait, then find the work done.
"""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from locator.storage import revisions

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
VERSION_TABLE = "living_alembic_version"
# The newest revision in ``migrations/versions``; a test holds it to the scripts.
HEAD = "l0002"
_LOCK_KEY = 0x10CA7014  # the stations' migrations take 0x10CA7013


def _config() -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def head() -> str:
    """The newest revision of the history, as its scripts say."""
    from alembic.script import ScriptDirectory

    rev = ScriptDirectory.from_config(_config()).get_current_head()
    assert rev is not None
    return rev


def current(engine: sa.Engine) -> str | None:
    """The revision the database is at; None before the first migration."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
        return ctx.get_current_revision()


def upgrade(engine: sa.Engine, revision: str = "head") -> None:
    """Bring the database to ``revision`` (the newest by default)."""
    if revision == "head" and revisions.at_head(engine, table=VERSION_TABLE, head=HEAD):
        return
    from alembic import command

    _run(engine, command.upgrade, revision)


def downgrade(engine: sa.Engine, revision: str) -> None:
    """Take the database back to ``revision`` (``base``: no tables at all)."""
    from alembic import command

    _run(engine, command.downgrade, revision)


def _run(engine: sa.Engine, step: Callable[..., Any], revision: str) -> None:
    cfg = _config()
    with _exclusive(engine), engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
        cfg.attributes["connection"] = conn
        step(cfg, revision)


@contextlib.contextmanager
def _exclusive(engine: sa.Engine) -> Iterator[None]:
    """On SQLite, one migrating process per database file; elsewhere nothing to do."""
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:":
        yield
        return
    with Path(f"{database}.migrate.lock").open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
