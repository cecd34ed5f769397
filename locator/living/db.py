"""The database of the write path: accounts, roles, unions, login attempts.

It is SQLite under ``DATA_DIR`` by default, so the embedded service needs no
set-up, and the PostgreSQL database of ``DATABASE_URL`` when that is set, so
that every web process sees the same accounts.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from locator.living.models import Base

_ENGINES: dict[str, Engine] = {}
_LOCK = threading.Lock()


def database_url(cfg: Mapping[str, Any]) -> str:
    """The write path's database URL for a configuration."""
    url = str(cfg.get("DATABASE_URL") or "")
    if url:
        # SQLAlchemy's default PostgreSQL driver is psycopg2; we ship psycopg 3.
        return url.replace("postgresql://", "postgresql+psycopg://", 1) \
            if url.startswith("postgresql://") else url
    folder = Path(cfg["DATA_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'living.sqlite'}"


def engine(cfg: Mapping[str, Any]) -> Engine:
    """One engine per URL and process, with the tables created on first use."""
    url = database_url(cfg)
    with _LOCK:
        eng = _ENGINES.get(url)
        if eng is None:
            kw: dict[str, Any] = {"pool_pre_ping": True}
            if url.startswith("postgresql"):
                kw["connect_args"] = {"connect_timeout": 5}
            eng = create_engine(url, **kw)
            if url.startswith("sqlite"):
                event.listen(eng, "connect", _sqlite_pragmas)
            Base.metadata.create_all(eng)
            _ENGINES[url] = eng
        return eng


def _sqlite_pragmas(conn: Any, _record: Any) -> None:
    # WAL lets readers in other processes go on while one writes; the busy
    # timeout makes a second writer wait instead of failing at once.
    cur = conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=5000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


@contextmanager
def session(cfg: Mapping[str, Any]) -> Iterator[Session]:
    """A session that commits when the block ends normally and rolls back otherwise."""
    factory = sessionmaker(engine(cfg), expire_on_commit=False)
    with factory() as s, s.begin():
        yield s
