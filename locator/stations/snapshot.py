"""The served snapshot: a published version laid out for instant, shared loading.

Reading a GeoPackage, normalising its columns and building the k-NN trees
costs seconds per million stations, and every worker, restart and hot reload
would pay it again. A snapshot is a folder written once per version:

``arrays/*.npy``
    the per-row arrays queries filter on (coordinates, kind, amenity bits,
    status, hours codes, shifted datums, change stamps), opened memory-mapped;
``columns.arrow``
    every schema field as one uncompressed Arrow IPC record batch, opened
    memory-mapped, so its text is never copied or parsed;
``trees.pickle``
    the already-built k-NN trees;
``meta.json``
    the format, row count and version it was made from, written last.

Memory-mapped pages live in the page cache, so the workers of one host share
one copy of the columns instead of holding one each. The folder is written
under a temporary name and renamed into place, so a reader sees a whole
snapshot or none; anything unreadable is treated as missing and rebuilt.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import pickle
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pyarrow as pa

FORMAT = 1
_META = "meta.json"
_TMP = ".tmp-"


@dataclass
class Contents:
    """What a snapshot holds, as :func:`write` takes it and :func:`read` gives it back."""

    arrays: dict[str, np.ndarray]
    columns: pa.Table
    trees: Any
    meta: dict[str, Any]


def write(folder: Path, contents: Contents) -> bool:
    """Write ``contents`` as the snapshot ``folder``; False when the disk refuses.

    A folder that cannot be written (read-only or full data folder) only
    means no snapshot: the caller serves what it loaded all the same.
    """
    try:
        tmp = staging(folder)
    except OSError:
        return False
    try:
        for name, arr in contents.arrays.items():
            np.save(tmp / "arrays" / f"{name}.npy", np.ascontiguousarray(arr),
                    allow_pickle=False)
        with pa.OSFile(str(tmp / "columns.arrow"), "wb") as sink, \
                pa.ipc.new_file(sink, contents.columns.schema) as out:
            out.write_table(contents.columns, max_chunksize=max(1, contents.columns.num_rows))
        with (tmp / "trees.pickle").open("wb") as fh:
            pickle.dump(contents.trees, fh, protocol=pickle.HIGHEST_PROTOCOL)
        meta = {**contents.meta, "format": FORMAT, "rows": contents.columns.num_rows}
        (tmp / _META).write_text(json.dumps(meta), encoding="utf-8")
        try:
            tmp.rename(folder)
        except OSError:
            if not (folder / _META).is_file():
                raise
            shutil.rmtree(tmp, ignore_errors=True)  # another process won the race
        return True
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        return False


def read(folder: Path) -> Contents | None:
    """The snapshot in ``folder``, memory-mapped; None when missing or unusable."""
    try:
        meta = json.loads((folder / _META).read_text(encoding="utf-8"))
        with (folder / "trees.pickle").open("rb") as fh:
            # Written by this package into its own data folder, never taken
            # from a client or another host: the same trust as the version files.
            trees = pickle.load(fh)
    except (OSError, ValueError, KeyError, EOFError, pickle.UnpicklingError):
        return None
    return read_parts(folder, meta, trees)


def read_parts(folder: Path, meta: dict[str, Any], trees: Any = None) -> Contents | None:
    """The arrays and columns in ``folder``, memory-mapped, with ``meta`` and ``trees``.

    Without trees this is what travels between hosts (:class:`Shared`); the
    dataset made from it builds its own trees.
    """
    if meta.get("format") != FORMAT:
        return None
    try:
        arrays = {p.stem: np.load(p, mmap_mode="r", allow_pickle=False)
                  for p in (folder / "arrays").glob("*.npy")}
        source = pa.memory_map(str(folder / "columns.arrow"), "r")
        columns = pa.ipc.open_file(source).read_all()
    except (OSError, ValueError, pa.ArrowException):
        return None
    rows = int(meta.get("rows", -1))
    if columns.num_rows != rows or any(len(a) != rows for a in arrays.values()):
        return None
    return Contents(arrays, columns, trees, meta)


class Shared(Protocol):
    """Somewhere hosts leave a version's snapshot for each other (see
    :mod:`locator.storage.pgsnapshot`).

    Only :func:`travelling` files go there: the arrays, the columns and the
    metadata, all read without unpickling. Each host builds its own trees.
    """

    def get(self, folder: Path, *,
            ready: Callable[[], None] | None = None) -> dict[str, Any] | None:
        """Write the shared files into the empty ``folder``; their meta, or None.

        ``ready()``, when given, is called as soon as the arrays are written.
        """

    def put(self, folder: Path) -> None:
        """Offer the finished snapshot ``folder`` to other hosts (never raises)."""


def travelling(folder: Path) -> list[str]:
    """The files of a snapshot that hosts share, relative to ``folder`` (the meta
    travels beside them, as :func:`read_meta` gives it)."""
    arrays = sorted(f"arrays/{p.name}" for p in (folder / "arrays").glob("*.npy"))
    return [*arrays, "columns.arrow"]


def read_meta(folder: Path) -> dict[str, Any] | None:
    """The metadata of the finished snapshot ``folder``; None when it has none."""
    try:
        meta = json.loads((folder / _META).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return meta if isinstance(meta, dict) else None


def staging(folder: Path) -> Path:
    """A fresh temporary folder beside ``folder``, for a snapshot being put together."""
    tmp = folder.with_name(f"{_TMP}{uuid.uuid4().hex[:8]}-{folder.name}")
    (tmp / "arrays").mkdir(parents=True)
    return tmp


def finish(tmp: Path, folder: Path, *, trees: Any, meta: dict[str, Any]) -> bool:
    """Complete the fetched snapshot ``tmp`` with this host's trees and move it into place."""
    try:
        with (tmp / "trees.pickle").open("wb") as fh:
            pickle.dump(trees, fh, protocol=pickle.HIGHEST_PROTOCOL)
        (tmp / _META).write_text(json.dumps(meta), encoding="utf-8")
        tmp.rename(folder)
    except OSError:
        return (folder / _META).is_file()  # another process may have won the race
    return True


@contextlib.contextmanager
def building(folder: Path) -> Iterator[None]:
    """Hold this host's lock on building ``folder``.

    When a new version goes live every worker notices at once; with the lock
    the first one builds the snapshot while the others wait, then map it,
    instead of each reading and indexing the version itself. A folder where
    no lock file can be made is built without one.
    """
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        fh = (folder.parent / f"{folder.name}.lock").open("a")
    except OSError:
        yield
        return
    with fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def discard(folder: Path) -> None:
    """Remove a snapshot (torn, stale or superseded); missing is fine."""
    shutil.rmtree(folder, ignore_errors=True)


def sweep(parent: Path, *, keep: set[str]) -> None:
    """Remove the snapshots in ``parent`` not named in ``keep``, and torn temporaries."""
    if not parent.is_dir():
        return
    for child in parent.iterdir():
        if child.name in keep or child.name.removesuffix(".lock") in keep or \
                (child.name.startswith(_TMP) and _young(child)):
            continue  # in use, or being written by another process right now
        if child.is_dir():
            discard(child)
        else:
            child.unlink(missing_ok=True)  # a snapshot of an older layout


def _young(path: Path, seconds: float = 3600.0) -> bool:
    try:
        return time.time() - path.stat().st_mtime < seconds
    except OSError:
        return False
