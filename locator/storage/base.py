"""The seam between the app and wherever published station versions live.

A :class:`StationSource` holds numbered, immutable versions of the station
table and a pointer to the live one. Two implementations exist:
:class:`locator.storage.files.FileSource` (GeoPackages in ``DATA_DIR``, the
embedded default) and :class:`locator.storage.postgis.PostgisSource`
(PostgreSQL/PostGIS, chosen by ``DATABASE_URL``). :func:`open_source` picks one
from the settings.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import geopandas as gpd
import numpy as np
import pandas as pd

from locator.domain import schema
from locator.errors import LocatorError
from locator.stations import dataset

MODIFIED_AT = "modified_at"
HASH = "content_hash"


@dataclass(frozen=True)
class VersionInfo:
    """One published version: its name and what its metadata says."""

    name: str
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Health:
    """What the source could load: ``degraded`` when the live version is unreadable."""

    live: str | None
    loaded: str | None
    problem: str | None = None

    @property
    def degraded(self) -> bool:
        return self.problem is not None


@runtime_checkable
class StationSource(Protocol):
    """Published versions of the station table and the pointer to the live one."""

    def version(self) -> str | None:
        """Name of the live version, or None while nothing is published."""

    def versions(self) -> list[VersionInfo]:
        """Complete published versions, oldest first."""

    def frame(self, name: str | None = None) -> gpd.GeoDataFrame:
        """A version's stations (default: the live one) with ``modified_at``."""

    def load(self, name: str | None = None) -> dataset.Dataset:
        """A query-ready dataset of a version (default: the live one)."""

    def base_frame(self) -> gpd.GeoDataFrame:
        """The stations an import builds on (never the synthetic demo file)."""

    def lock(self) -> contextlib.AbstractContextManager[None]:
        """Exclusive for one writer (import, rollback, prune), across processes."""

    def publish(self, frame: gpd.GeoDataFrame, *, meta: dict[str, Any],
                now: datetime | None = None) -> str:
        """Store ``frame`` as a new version and make it live in one step.

        Rows new or changed since the live version get ``modified_at = now``
        (default: the current time); unchanged rows keep theirs.
        """

    def rollback(self, name: str | None = None) -> str:
        """Make ``name`` (default: the version before the live one) live."""

    def withdraw(self, name: str, previous: str | None) -> None:
        """Take back ``name``, live by a publish that failed: ``previous`` is live again
        (nothing is, when it is None) and ``name`` is deleted. Call under :meth:`lock`."""

    def prune(self, keep: int) -> list[str]:
        """Delete all but the ``keep`` newest versions (never the live one)."""

    def changes(self, timeout: float) -> str | None:
        """Wait up to ``timeout`` s for the live version to change; return it when it did."""

    def describe(self) -> str:
        """Where the data lives, for messages."""


def open_source(config: Mapping[str, Any]) -> StationSource:
    """The source the settings ask for: PostGIS when ``DATABASE_URL`` is set, else files."""
    url = str(config.get("DATABASE_URL") or "")
    if url.startswith(("postgresql:", "postgresql+", "postgres:")):
        from locator.storage import postgis

        data_dir = config.get("DATA_DIR")
        return postgis.PostgisSource(url, fallback=config["DATA_PATH"],
                                     timeout=float(config.get("DATABASE_TIMEOUT", 3.0)),
                                     snapshots=Path(data_dir) / dataset.SNAPSHOTS
                                     if data_dir else None)
    if url:
        raise LocatorError(400, "invalid_setting",
                           "DATABASE_URL must start with postgresql://", "DATABASE_URL")
    from locator.storage import files

    return files.FileSource(config["DATA_DIR"], fallback=config["DATA_PATH"])


def row_hashes(frame: pd.DataFrame) -> np.ndarray:
    """A 64-bit hash of each row's schema content (coordinates included), vectorised."""
    cols = [c for c in schema.FIELDS if c in frame.columns]
    plain = pd.DataFrame(frame[cols]).astype(object).where(pd.DataFrame(frame[cols]).notna(),
                                                            None).astype(str)
    geom = frame.geometry if isinstance(frame, gpd.GeoDataFrame) else None
    if geom is not None and len(frame):
        plain["_x"] = np.round(geom.x.to_numpy(float), 7).astype(str)
        plain["_y"] = np.round(geom.y.to_numpy(float), 7).astype(str)
    return pd.util.hash_pandas_object(plain, index=False).to_numpy(np.uint64)


def stamp_modified(frame: gpd.GeoDataFrame, previous: pd.DataFrame | None,
                   *, now: datetime | None = None) -> gpd.GeoDataFrame:
    """``frame`` with ``content_hash`` and ``modified_at`` columns.

    A row keeps the previous version's ``modified_at`` when a row with the same
    id and the same content hash was there; every other row (new or changed)
    gets ``now``. ``previous`` needs ``id``, ``content_hash`` and ``modified_at``.
    """
    when = pd.Timestamp(now or utcnow())
    when = when.tz_localize("UTC") if when.tzinfo is None else when.tz_convert("UTC")
    out = frame.copy()
    out[HASH] = row_hashes(frame).astype(np.int64)  # signed: fits a bigint column
    stamped = pd.Series(when, index=out.index, dtype="datetime64[us, UTC]")
    if previous is not None and len(previous) and HASH in previous.columns:
        prev = pd.DataFrame({"id": previous["id"].astype(str),
                             "_h": previous[HASH].astype(np.int64),
                             "_m": pd.to_datetime(previous[MODIFIED_AT], utc=True)})
        prev = prev.drop_duplicates("id").set_index("id")
        old_h = out["id"].map(prev["_h"])
        old_m = out["id"].map(prev["_m"])
        same = old_h.notna() & (old_h == out[HASH]) & old_m.notna()
        stamped = stamped.where(~same, pd.to_datetime(old_m, utc=True))
    out[MODIFIED_AT] = stamped.astype("datetime64[us, UTC]")
    return out


def to_dataset(frame: gpd.GeoDataFrame, version: str, **kw: Any) -> dataset.Dataset:
    """Build the query-ready dataset, carrying ``modified_at`` beside it."""
    ds = dataset.Dataset(dataset.normalise(frame), version, kw.get("path"))
    if MODIFIED_AT in frame.columns:
        ds.modified_at = pd.to_datetime(frame[MODIFIED_AT], utc=True).dt.tz_localize(None) \
            .to_numpy("datetime64[us]")
    return ds


def unavailable(what: str, exc: BaseException | None = None) -> LocatorError:
    """The 503 every request gets while the store cannot be reached."""
    detail = f": {type(exc).__name__}" if exc is not None else ""
    return LocatorError(503, "storage_unavailable",
                        f"the station store is unavailable ({what}{detail}); try again shortly")


def utcnow() -> datetime:
    return datetime.now(UTC)


@contextlib.contextmanager
def writable(where: str) -> Iterator[None]:
    """Turn a read-only or full disk into a clear error instead of a traceback."""
    try:
        yield
    except OSError as exc:
        import errno

        if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
            raise LocatorError(503, "data_dir_read_only",
                               f"cannot write to {where}: {exc.strerror}; make the data "
                               "folder writable or set DATA_DIR") from None
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise LocatorError(507, "data_dir_full",
                               f"no space left to write to {where}; free some space "
                               "(locator datasets --prune N removes old versions)") from None
        raise


def choose_version(names: Sequence[str], name: str | None, older: Sequence[str]) -> str:
    """The version a rollback goes to: ``name`` (a unique prefix will do), else the newest
    of ``older``; 409 when there is nothing older, 404 when ``name`` matches no single one."""
    if name is None:
        if not older:
            raise LocatorError(409, "no_earlier_version",
                               "there is no earlier published version to return to", "version")
        name = older[-1]
    matches = [n for n in names if n == name or n.startswith(name)]
    if len(matches) != 1:
        msg = (f"no published version {name!r}" if not matches else
               f"{name!r} matches {len(matches)} versions; give more of it")
        raise LocatorError(404, "not_found", msg, "version")
    return matches[0]
