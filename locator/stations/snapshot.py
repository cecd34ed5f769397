"""The served snapshot: a published version laid out for instant, shared loading.

Reading a GeoPackage, normalising its columns and building the k-NN trees
costs seconds per million stations, and every worker, restart and hot reload
would pay it again. A snapshot is a folder written once per version:

``arrays/*.npy``
    the per-row arrays queries filter on (coordinates, kind, amenity bits,
    status, hours codes, shifted datums, change stamps), opened memory-mapped;
``columns.arrow``
    every schema field as one uncompressed Arrow IPC record batch, opened
    memory-mapped, so its text is never copied or parsed (text repeated over
    many rows is dictionary-encoded);
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
import io
import json
import math
import pickle
import re
import shutil
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pyarrow as pa

# 2: the second index holds the temporarily closed stations alone, and repeated
# text is dictionary-encoded.
FORMAT = 2
_META = "meta.json"
_TMP = ".tmp-"
# The only names a travelling file may have: nothing fetched can land elsewhere.
_TRAVELLING = re.compile(r"arrays/[a-z0-9_]+\.npy|columns\.arrow")
# An .npy header is padded to a multiple of 64 bytes and is short for these
# one- and two-dimensional arrays; 64 KiB leaves ample room.
_NPY_HEAD = 1 << 16


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
        meta = {**contents.meta, "format": FORMAT, "rows": contents.columns.num_rows}
        return _complete(tmp, folder, contents.trees, meta)
    except OSError:
        return False
    finally:
        discard(tmp)  # gone already when it was moved into place


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
    """The arrays and columns in ``folder``, memory-mapped, with ``meta`` and ``trees``."""
    if meta.get("format") != FORMAT:
        return None
    try:
        arrays = {p.stem: np.load(p, mmap_mode="r", allow_pickle=False)
                  for p in (folder / "arrays").glob("*.npy")}
        source = pa.memory_map(str(folder / "columns.arrow"), "r")
        columns = pa.ipc.open_file(source).read_all()
    except (OSError, ValueError, pa.ArrowException):
        return None
    return _checked(arrays, columns, trees, meta)


def from_memory(files: Mapping[str, Any], meta: dict[str, Any],
                trees: Any = None) -> Contents | None:
    """The snapshot whose :func:`travelling` files are the buffers ``files``.

    Nothing is copied: the arrays and the columns are views of the buffers.
    A host that fetched a snapshot serves from it so, before (and while)
    writing the files to its own disk.
    """
    if meta.get("format") != FORMAT:
        return None
    try:
        arrays = arrays_in(files)
        columns = pa.ipc.open_file(pa.py_buffer(files["columns.arrow"])).read_all()
    except (KeyError, ValueError, pa.ArrowException):
        return None
    return _checked(arrays, columns, trees, meta)


def arrays_in(files: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """The arrays among travelling ``files`` (bytes of ``.npy`` files), as read-only views."""
    return {name.removeprefix("arrays/").removesuffix(".npy"): _npy(buf)
            for name, buf in files.items() if name.startswith("arrays/")}


def _npy(buf: Any) -> np.ndarray:
    head = io.BytesIO(bytes(memoryview(buf).cast("B")[:_NPY_HEAD]))
    version = np.lib.format.read_magic(head)
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(head)
    elif version == (2, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(head)
    else:
        msg = f"unsupported .npy version {version}"
        raise ValueError(msg)
    if dtype.hasobject:
        msg = "an .npy file of objects"
        raise ValueError(msg)
    arr = np.frombuffer(buf, dtype=dtype, count=math.prod(shape), offset=head.tell())
    arr = arr.reshape(shape, order="F" if fortran else "C")
    arr.flags.writeable = False  # as the mapped arrays are
    return arr


def _checked(arrays: dict[str, np.ndarray], columns: pa.Table, trees: Any,
             meta: dict[str, Any]) -> Contents | None:
    rows = int(meta.get("rows", -1))
    if columns.num_rows != rows or any(len(a) != rows for a in arrays.values()):
        return None
    return Contents(arrays, columns, trees, meta)


@dataclass
class Fetched:
    """A snapshot fetched from :class:`Shared`: its :func:`travelling` files as
    buffers, by name, and its meta."""

    files: dict[str, Any]
    meta: dict[str, Any]


def check_travelling(name: str) -> None:
    """Refuse a fetched file's name that is not one a snapshot's travelling file has."""
    if not _TRAVELLING.fullmatch(name):
        msg = f"unexpected file name {name!r}"
        raise ValueError(msg)


class Shared(Protocol):
    """Somewhere hosts leave a version's snapshot for each other (see
    :mod:`locator.storage.pgsnapshot`).

    Only :func:`travelling` files go there: the arrays, the columns and the
    metadata, all read without unpickling. Each host builds its own trees.
    """

    def get(self, *, ready: Callable[[Mapping[str, Any]], None] | None = None
            ) -> Fetched | None:
        """The shared files, in memory, with their meta; None when there are none.

        ``ready(files)``, when given, is called as soon as the arrays are in,
        with the files fetched so far.
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


def finish(folder: Path, fetched: Fetched, *, trees: Any) -> bool:
    """Write a fetched snapshot's files with this host's trees as the snapshot ``folder``."""
    try:
        tmp = staging(folder)
    except OSError:
        return False
    try:
        for name, data in fetched.files.items():
            check_travelling(name)
            with (tmp / name).open("wb") as fh:
                fh.write(data)
        return _complete(tmp, folder, trees, fetched.meta)
    except OSError:
        return False
    finally:
        discard(tmp)  # gone already when it was moved into place


def _complete(tmp: Path, folder: Path, trees: Any, meta: dict[str, Any]) -> bool:
    """Add the trees and the meta (last) to the staged ``tmp`` and move it into place.

    True when a whole snapshot is in place, this one or one another process
    moved there first; False when the disk refused.
    """
    try:
        with (tmp / "trees.pickle").open("wb") as fh:
            pickle.dump(trees, fh, protocol=pickle.HIGHEST_PROTOCOL)
        (tmp / _META).write_text(json.dumps(meta), encoding="utf-8")
        tmp.rename(folder)
    except OSError:
        return (folder / _META).is_file()
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
