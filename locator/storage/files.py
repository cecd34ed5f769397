"""Versioned, atomic publishing of the station dataset.

Layout of the data folder (setting ``DATA_DIR``)::

    versions/<UTC time>-<sha256 prefix>.gpkg   immutable, one per publish
    versions/<same name>.json                  what it holds; written before ``current``
    current                                    the live version's name
    import.lock                                held while an import or rollback runs
    reports/                                   import reports

A publish writes the new GeoPackage under a temporary name, fsyncs it, renames
it into ``versions/``, and only then replaces ``current`` with
:func:`os.replace`, which is atomic on POSIX. Whatever happens before that
rename (a crash, a kill, a full disk) leaves ``current`` naming the previous,
untouched file. While nothing has been published, the app serves ``DATA_PATH``.

A version counts as published only once its ``.json`` metadata exists: a
GeoPackage renamed into ``versions/`` by an import that was killed before
writing it is an orphan that :meth:`DataDir.versions`, ``rollback`` and
``datasets`` never see, and the next publish deletes it.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio

from locator.domain import schema
from locator.errors import LocatorError, not_found
from locator.stations import dataset, served, snapshot
from locator.storage import base, checks

log = logging.getLogger(__name__)
POINTER = "current"
_TMP = ".tmp-"


@dataclass(frozen=True)
class Version:
    name: str
    path: Path
    meta: dict[str, Any]


def empty_frame() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({c: [] for c in schema.FIELDS}, geometry=[], crs="EPSG:4326")


def read_frame(path: str | Path) -> gpd.GeoDataFrame:
    p = Path(path)
    layers = [n for n, _ in pyogrio.list_layers(p)] if p.suffix == ".gpkg" else []
    gdf = pyogrio.read_dataframe(p, layer=dataset.LAYER if dataset.LAYER in layers else None)
    return dataset.normalise(gdf)


def _write_version(frame: gpd.GeoDataFrame, path: Path) -> None:
    """Write an already normalised frame (as :func:`dataset.write` would, minus re-normalising)."""
    cols = [c for c in (*schema.FIELDS, base.HASH, base.MODIFIED_AT) if c in frame.columns]
    out = gpd.GeoDataFrame(frame[cols], geometry=frame.geometry, crs="EPSG:4326")
    # Through Arrow, GDAL takes whole columns; the row-by-row path is twice as slow.
    pyogrio.write_dataframe(out, path, layer=dataset.LAYER, driver="GPKG", use_arrow=True)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(_TMP + path.name)
    with tmp.open("wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    tmp.replace(path)  # atomic rename (os.replace)
    _fsync_dir(path.parent)


class DataDir:
    """The published versions and the pointer to the live one."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.versions_dir = self.root / "versions"
        self.pointer = self.root / POINTER
        self.reports = self.root / "reports"

    # -- reading -------------------------------------------------------------------------
    def current(self) -> str | None:
        """Name of the live version, or None while nothing is published."""
        try:
            name = self.pointer.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        return name if name and self._complete(name) else None

    def _complete(self, name: str) -> bool:
        return (self.versions_dir / f"{name}.gpkg").is_file() and \
            (self.versions_dir / f"{name}.json").is_file()

    def live_path(self, fallback: str | Path) -> Path:
        name = self.current()
        return self.versions_dir / f"{name}.gpkg" if name else Path(fallback)

    def versions(self) -> list[Version]:
        if not self.versions_dir.is_dir():
            return []
        out = []
        for p in sorted(self.versions_dir.glob("*.gpkg")):
            if p.name.startswith(_TMP):
                continue
            meta_file = p.with_suffix(".json")
            if not meta_file.is_file():
                continue  # an orphan left by a killed import: never published
            try:
                meta = json.loads(meta_file.read_text("utf-8"))
            except (OSError, ValueError):
                continue
            out.append(Version(p.stem, p, meta))
        return out

    def base_frame(self, fallback: str | Path) -> gpd.GeoDataFrame:
        """The stations an import builds on.

        The synthetic demo file is never carried into a real dataset: with
        nothing published and a demo ``DATA_PATH``, an import starts empty.
        """
        path = self.live_path(fallback)
        if not path.is_file():
            return empty_frame()
        frame = read_frame(path)
        if self.current() is None and len(frame) and bool(frame["demo"].all()):
            return empty_frame()
        return frame

    # -- writing -------------------------------------------------------------------------
    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Exclusive for the duration of one import or rollback, across processes."""
        with base.writable(str(self.root)):
            self.root.mkdir(parents=True, exist_ok=True)
            fh = (self.root / "import.lock").open("a+")
        with fh:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise LocatorError(409, "busy", "another import or rollback is running; "
                                   "try again when it has finished") from None
            try:
                yield
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)

    def publish(self, frame: gpd.GeoDataFrame, *, meta: dict[str, Any],
                write: Callable[[gpd.GeoDataFrame, Path], None] | None = None) -> str:
        """Write ``frame`` as a new version and make it live. Call under :meth:`lock`."""
        with base.writable(str(self.versions_dir)):
            return self._publish(frame, meta=meta, write=write)

    def _publish(self, frame: gpd.GeoDataFrame, *, meta: dict[str, Any],
                 write: Callable[[gpd.GeoDataFrame, Path], None] | None) -> str:
        self.versions_dir.mkdir(parents=True, exist_ok=True)
        self._sweep()
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        tmp = self.versions_dir / f"{_TMP}{stamp}.gpkg"
        (write or _write_version)(frame, tmp)
        with tmp.open("rb+") as fh:
            os.fsync(fh.fileno())
        name = f"{stamp}-{dataset.file_version(tmp)}"
        final = self.versions_dir / f"{name}.gpkg"
        tmp.replace(final)
        _fsync_dir(self.versions_dir)
        sources = frame["source"].fillna("").value_counts().to_dict() if len(frame) else {}
        info = {"version": name, "created": datetime.now(UTC).isoformat(timespec="seconds"),
                "stations": len(frame), "sources": {str(k): int(v) for k, v in sources.items()},
                **meta}
        _write_atomic(final.with_suffix(".json"),
                      json.dumps(info, ensure_ascii=False, indent=1).encode("utf-8"))
        # The new file must open and hold what was written before it goes live.
        checks.check_gpkg(final, expect=len(frame))
        self.switch(name)
        return name

    def switch(self, name: str) -> None:
        """Point ``current`` at an existing version, atomically."""
        if not self._complete(name):
            raise not_found(f"no published version {name!r}", "version")
        _write_atomic(self.pointer, (name + "\n").encode("utf-8"))

    def rollback(self, name: str | None = None) -> str:
        """Make ``name`` (default: the version published before the live one) live."""
        names = [v.name for v in self.versions()]
        older: list[str] = []
        if name is None:
            cur = self.current()
            # Only versions that still open and hold their rows are candidates.
            older = [v.name for v in self.versions() if cur is not None and v.name < cur
                     and checks.usable(v.path, v.meta)]
        chosen = base.choose_version(names, name, older)
        self.switch(chosen)
        return chosen

    def withdraw(self, name: str, previous: str | None) -> None:
        """Make ``previous`` (or nothing) live again and delete ``name``."""
        if previous is None:
            self.pointer.unlink(missing_ok=True)
            _fsync_dir(self.root)
        else:
            self.switch(previous)
        # The metadata first: without it the file is an orphan no one serves.
        (self.versions_dir / f"{name}.json").unlink(missing_ok=True)
        (self.versions_dir / f"{name}.gpkg").unlink(missing_ok=True)

    def prune(self, keep: int) -> list[str]:
        """Delete all but the ``keep`` newest versions; the live one is always kept."""
        if keep < 1:
            raise LocatorError(400, "invalid_parameter", "keep at least one version", "keep")
        cur = self.current()
        versions = self.versions()
        doomed = [v for v in versions[:-keep] if v.name != cur]
        for v in doomed:
            v.path.with_suffix(".json").unlink(missing_ok=True)
            v.path.unlink(missing_ok=True)
        return [v.name for v in doomed]

    def _sweep(self) -> None:
        """Remove temporary files and orphan versions left by an import that was killed."""
        for p in self.versions_dir.glob(_TMP + "*"):
            p.unlink(missing_ok=True)
        for p in self.versions_dir.glob("*.gpkg"):
            if not p.with_suffix(".json").is_file():
                p.unlink(missing_ok=True)


def live_path(config: Any) -> Path:
    """The file the app serves for a settings mapping: the live version, else DATA_PATH."""
    return DataDir(config["DATA_DIR"]).live_path(config["DATA_PATH"])


def content_hash(path: str | Path) -> str:
    h = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class FileSource:
    """:class:`~locator.storage.base.StationSource` over a :class:`DataDir`: the default.

    While nothing is published, the live data is ``fallback`` (``DATA_PATH``).
    """

    def __init__(self, root: str | Path, *, fallback: str | Path) -> None:
        self.dir = DataDir(root)
        self.fallback = Path(fallback)

    def describe(self) -> str:
        return str(self.dir.root)

    def version(self) -> str | None:
        return self.dir.current()

    def versions(self) -> list[base.VersionInfo]:
        return [base.VersionInfo(v.name, v.meta) for v in self.dir.versions()]

    def _path(self, name: str | None) -> Path:
        return self.dir.versions_dir / f"{name}.gpkg" if name else self.fallback

    def _meta(self, name: str) -> dict[str, Any]:
        try:
            return dict(json.loads((self.dir.versions_dir / f"{name}.json").read_text("utf-8")))
        except (OSError, ValueError):
            return {}

    def frame(self, name: str | None = None) -> gpd.GeoDataFrame:
        path = self._path(name if name is not None else self.version())
        frame = read_frame(path)
        stamps = _stamps(path)
        if stamps is not None:
            frame[base.HASH] = stamps[base.HASH].to_numpy()
            frame[base.MODIFIED_AT] = stamps[base.MODIFIED_AT].to_numpy()
        return frame

    def load(self, name: str | None = None) -> dataset.Dataset:
        name = name if name is not None else self.version()
        path = self._path(name)
        if name:
            stations = self._meta(name).get("stations")
            checks.check_gpkg(path, expect=int(stations) if stations is not None else None)

        def build() -> dataset.Dataset:
            ds = dataset.read(path)
            stamps = _stamps(path, columns=(base.MODIFIED_AT,))
            if stamps is not None:
                ds.modified_at = pd.to_datetime(stamps[base.MODIFIED_AT], utc=True) \
                    .dt.tz_localize(None).to_numpy("datetime64[us]")
            return ds

        # Published versions are ours and never rewritten, so each may keep a
        # served snapshot; DATA_PATH outside the data folder is read as it is.
        return served.cached(self._snapshot(path) if name else None, build, path=path)

    def _snapshot(self, path: Path) -> Path:
        st = path.stat()
        parent = self.dir.versions_dir / dataset.SNAPSHOTS
        folder = parent / f"{path.name}.{st.st_size}.{st.st_mtime_ns}"
        if not folder.is_dir():
            snapshot.sweep(parent, keep=self._snapshots_in_use() | {folder.name})
        return folder

    def _snapshots_in_use(self) -> set[str]:
        """Snapshot names of every published version file as it is now."""
        names = set()
        for v in self.dir.versions():
            try:
                st = v.path.stat()
            except OSError:
                continue
            names.add(f"{v.path.name}.{st.st_size}.{st.st_mtime_ns}")
        return names

    def base_frame(self) -> gpd.GeoDataFrame:
        return self.dir.base_frame(self.fallback)

    def lock(self) -> contextlib.AbstractContextManager[None]:
        return self.dir.lock()

    def publish(self, frame: gpd.GeoDataFrame, *, meta: dict[str, Any],
                now: datetime | None = None) -> str:
        live = self.version()
        previous = _stamps(self._path(live)) if live else None
        return self.dir.publish(base.stamp_modified(frame, previous, now=now), meta=meta)

    def rollback(self, name: str | None = None) -> str:
        return self.dir.rollback(name)

    def withdraw(self, name: str, previous: str | None) -> None:
        with base.writable(str(self.dir.root)):
            self.dir.withdraw(name, previous)

    def prune(self, keep: int) -> list[str]:
        with base.writable(str(self.dir.versions_dir)):
            gone = self.dir.prune(keep)
            snapshot.sweep(self.dir.versions_dir / dataset.SNAPSHOTS,
                           keep=self._snapshots_in_use())
            return gone

    def changes(self, timeout: float) -> str | None:
        start = self.version()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            time.sleep(min(0.5, max(0.0, deadline - time.monotonic())))
            now = self.version()
            if now != start:
                return now
        return None


def _stamps(path: Path, columns: tuple[str, ...] = ("id", base.HASH, base.MODIFIED_AT)
            ) -> pd.DataFrame | None:
    """The change-tracking columns of a version file, or None when it predates them."""
    if not path.is_file() or path.suffix != ".gpkg":
        return None
    try:
        fields = set(pyogrio.read_info(path, layer=dataset.LAYER)["fields"])
    except Exception:  # not our layout: no stamps
        return None
    if not set(columns) <= fields | {"id"} or base.MODIFIED_AT not in fields:
        return None
    frame = pyogrio.read_dataframe(path, layer=dataset.LAYER, columns=list(columns),
                                   read_geometry=False)
    frame[base.MODIFIED_AT] = pd.to_datetime(frame[base.MODIFIED_AT], utc=True)
    return frame
