"""Versioned, atomic publishing of the station dataset.

Layout of the data folder (setting ``DATA_DIR``)::

    versions/<UTC time>-<sha256 prefix>.gpkg   immutable, one per publish
    versions/<same name>.json                  what it holds and where it came from
    current                                    the live version's name
    import.lock                                held while an import or rollback runs
    reports/                                   import reports

A publish writes the new GeoPackage under a temporary name, fsyncs it, renames
it into ``versions/``, and only then replaces ``current`` with
:func:`os.replace`, which is atomic on POSIX. Whatever happens before that
rename (a crash, a kill, a full disk) leaves ``current`` naming the previous,
untouched file. While nothing has been published, the app serves ``DATA_PATH``.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import pyogrio

from locator.domain import schema
from locator.errors import LocatorError, not_found
from locator.stations import dataset

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
    cols = [c for c in schema.FIELDS if c in frame.columns]
    out = gpd.GeoDataFrame(frame[cols], geometry=frame.geometry, crs="EPSG:4326")
    pyogrio.write_dataframe(out, path, layer=dataset.LAYER, driver="GPKG")


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
        return name if name and (self.versions_dir / f"{name}.gpkg").is_file() else None

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
            meta = json.loads(meta_file.read_text("utf-8")) if meta_file.is_file() else {}
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
        self.root.mkdir(parents=True, exist_ok=True)
        with (self.root / "import.lock").open("a+") as fh:
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
        self.switch(name)
        return name

    def switch(self, name: str) -> None:
        """Point ``current`` at an existing version, atomically."""
        if not (self.versions_dir / f"{name}.gpkg").is_file():
            raise not_found(f"no published version {name!r}", "version")
        _write_atomic(self.pointer, (name + "\n").encode("utf-8"))

    def rollback(self, name: str | None = None) -> str:
        """Make ``name`` (default: the version published before the live one) live."""
        names = [v.name for v in self.versions()]
        if name is None:
            cur = self.current()
            older = [n for n in names if cur is not None and n < cur]
            if not older:
                raise LocatorError(409, "no_earlier_version",
                                   "there is no earlier published version to return to",
                                   "version")
            name = older[-1]
        matches = [n for n in names if n == name or n.startswith(name)]
        if len(matches) != 1:
            raise not_found(f"no published version {name!r}" if not matches else
                            f"{name!r} matches {len(matches)} versions; give more of it",
                            "version")
        self.switch(matches[0])
        return matches[0]

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
        """Remove temporary files left by an import that was killed."""
        for p in self.versions_dir.glob(_TMP + "*"):
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


class Watcher:
    """Lets a running server follow ``current`` without a restart.

    :meth:`poll` runs before requests; at most every ``interval`` seconds it
    reads the pointer, and when it names a new version it loads that version
    in a background thread and swaps it into the store. Requests already
    holding the old :class:`~locator.stations.dataset.Dataset` finish on it.
    """

    def __init__(self, data_dir: DataDir, fallback: str | Path, target: dataset.Store,
                 *, interval: float, loaded: str | None) -> None:
        self.data_dir = data_dir
        self.fallback = Path(fallback)
        self.store = target
        self.interval = interval
        self.loaded = loaded
        self._failed: str | None = None
        self._next = 0.0
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def poll(self) -> None:
        now = time.monotonic()
        if now < self._next:
            return
        with self._lock:
            if now < self._next or (self._thread is not None and self._thread.is_alive()):
                return
            self._next = now + self.interval
            name = self.data_dir.current()
            if name == self.loaded or name == self._failed:
                return
            self._thread = threading.Thread(target=self._load, args=(name,), daemon=True,
                                            name="locator-reload")
            self._thread.start()

    def wait(self, timeout: float = 30.0) -> None:
        t = self._thread
        if t is not None:
            t.join(timeout)

    def _load(self, name: str | None) -> None:
        path = self.data_dir.versions_dir / f"{name}.gpkg" if name else self.fallback
        try:
            fresh = dataset.read(path, snapshot=name is not None)
        except Exception:  # a bad file must never take the live map down
            log.exception("could not load published version %s; keeping the old one", name)
            self._failed = name
            return
        self.store.swap(fresh)
        self.loaded = name
        log.info("now serving %s (%d stations)", path, len(fresh))
