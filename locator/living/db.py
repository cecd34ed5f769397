"""The database of the write path: accounts, roles, unions, login attempts.

It is SQLite under ``DATA_DIR`` by default, so the embedded service needs no
set-up, and the PostgreSQL database of ``DATABASE_URL`` when that is set, so
that every web process sees the same accounts.

When the database cannot be reached or does not answer within
``DATABASE_TIMEOUT`` seconds, :func:`session` raises the standard 503
(``storage_unavailable``) instead of hanging or failing with a traceback; the
PostgreSQL pool checks each connection before use, so service resumes by itself
once the server is back.

Writers to SQLite take turns on a lock of the process (``session(write=True)``)
before SQLite's own: a writer waiting on SQLite's busy handler sleeps in steps
of up to 100 ms and finds out late that the lock is free, which under a burst of
reports cost far more than the writes themselves; the process lock hands over at
once. Writers of several processes (gunicorn's workers) take turns as well, on
a lock file beside the database (:class:`_FileLock`) tried every millisecond
or two; SQLite's own lock and busy timeout still keep other programs in order.
"""

from __future__ import annotations

import fcntl
import functools
import logging
import os
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.orm import Session, sessionmaker

from locator.errors import LocatorError
from locator.living import schema

log = logging.getLogger(__name__)

_ENGINES: dict[str, Engine] = {}
_SESSIONS: dict[str, sessionmaker[Session]] = {}
_WRITERS: dict[str, threading.Lock] = {}
_FILES: dict[str, _FileLock | None] = {}
_LOCK = threading.Lock()


def database_url(cfg: Mapping[str, Any]) -> str:
    """The write path's database URL for a configuration."""
    return _url(str(cfg.get("DATABASE_URL") or ""), str(cfg["DATA_DIR"]))


@functools.lru_cache(maxsize=64)
def _url(url: str, data_dir: str) -> str:
    # Cached: every public answer reads the feedback flags, and a mkdir per
    # request was a measurable share of a nearest answer.
    if url:
        # SQLAlchemy's default PostgreSQL driver is psycopg2; we ship psycopg 3.
        return url.replace("postgresql://", "postgresql+psycopg://", 1) \
            if url.startswith("postgresql://") else url
    folder = Path(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'living.sqlite'}"


def engine(cfg: Mapping[str, Any]) -> Engine:
    """One engine per URL and process, its schema migrated to the newest on first use."""
    url = database_url(cfg)
    eng = _ENGINES.get(url)
    if eng is not None:
        return eng
    with _LOCK:
        eng = _ENGINES.get(url)
        if eng is None:
            timeout = float(cfg.get("DATABASE_TIMEOUT", 3.0))
            kw: dict[str, Any] = {}
            if url.startswith("postgresql"):
                ms = int(timeout * 1000)
                # A server that restarted leaves dead connections in the pool; the
                # ping replaces them before a request meets one. A file cannot.
                kw["pool_pre_ping"] = True
                kw["pool_timeout"] = timeout
                kw["connect_args"] = {
                    "connect_timeout": max(1, round(timeout)),
                    "options": f"-c statement_timeout={ms} -c lock_timeout={ms}"}
            eng = create_engine(url, **kw)
            if url.startswith("sqlite"):
                event.listen(eng, "connect", _sqlite_pragmas)
            with _unavailable_as_503():
                schema.upgrade(eng)
            if url.startswith("sqlite"):
                _WRITERS[url] = threading.Lock()
                path = url.removeprefix("sqlite:///").split("?")[0]
                _FILES[url] = _FileLock(path + ".writer") \
                    if path and not path.startswith(":memory:") and path != url else None
            _SESSIONS[url] = sessionmaker(eng, expire_on_commit=False)
            _ENGINES[url] = eng
        return eng


@contextmanager
def _unavailable_as_503() -> Iterator[None]:
    """A server that is away, refuses or runs out of time becomes the standard 503."""
    try:
        yield
    except (exc.OperationalError, exc.InterfaceError, exc.TimeoutError) as err:
        raise unavailable(err) from None
    except exc.DBAPIError as err:
        if isinstance(err.orig, psycopg.errors.QueryCanceled | psycopg.errors.LockNotAvailable):
            raise unavailable(err) from None
        raise


def unavailable(err: BaseException) -> LocatorError:
    log.warning("database unavailable: %s", str(err).splitlines()[0] if str(err) else err)
    return LocatorError(503, "storage_unavailable",
                        f"the database is unavailable ({type(err).__name__}); "
                        "try again shortly")


def _sqlite_pragmas(conn: Any, _record: Any) -> None:
    # WAL lets readers in other processes go on while one writes; the busy
    # timeout makes a second writer wait instead of failing at once.
    cur = conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=5000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


class _FileLock:
    """An exclusive lock on a file, shared by every process writing one SQLite database.

    SQLite's busy handler lets a waiting writer sleep up to 100 ms between tries;
    waiting here instead, in steps of a millisecond or two, a writer of another
    process starts as soon as the lock is free. Held only under the process's own
    writer lock, so a process polls with one thread at most.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._fd: int | None = None
        self._pid = 0

    def acquire(self, timeout: float) -> bool:
        if self._fd is None or self._pid != os.getpid():
            # Opened in each process: a descriptor inherited over a fork would share
            # the lock with the parent instead of excluding it.
            self._fd, self._pid = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600), os.getpid()
        deadline, step = time.monotonic() + timeout, 0.0005
        while True:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    return False
                time.sleep(step)
                step = min(step * 2, 0.002)

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)


@contextmanager
def session(cfg: Mapping[str, Any], *, write: bool = False) -> Iterator[Session]:
    """A session that commits when the block ends normally and rolls back otherwise.

    With ``write`` on SQLite, the block runs alone among this process's writers
    and holds SQLite's write lock from its first statement (``BEGIN IMMEDIATE``),
    so what it reads stays true until it commits.
    """
    url = database_url(cfg)
    if url not in _SESSIONS:
        engine(cfg)
    factory = _SESSIONS[url]
    writer = _WRITERS.get(url) if write else None
    if writer is None:
        with _unavailable_as_503(), factory() as s, s.begin():
            yield s
        return
    timeout = float(cfg.get("DATABASE_TIMEOUT", 3.0))
    if not writer.acquire(timeout=timeout):
        raise unavailable(TimeoutError("other writers of this process hold the database"))
    shared = _FILES[url]
    try:
        if shared is not None and not shared.acquire(timeout):
            raise unavailable(TimeoutError("writers of other processes hold the database"))
        try:
            with _unavailable_as_503(), factory() as s, s.begin():
                s.connection().exec_driver_sql("BEGIN IMMEDIATE")
                yield s
        finally:
            if shared is not None:
                shared.release()
    finally:
        writer.release()
