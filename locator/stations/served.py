"""Loading a version through its served snapshot (:mod:`locator.stations.snapshot`)."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from locator.stations import snapshot
from locator.stations.dataset import Dataset, build_trees

log = logging.getLogger(__name__)
_FINISHING: list[threading.Thread] = []


def cached(folder: Path | None, build: Callable[[], Dataset], *,
           path: Path | None = None, shared: snapshot.Shared | None = None) -> Dataset:
    """The dataset in the served snapshot ``folder``, else ``build()`` saved there.

    The storage layer names the folder for one immutable version, so the
    first process to load a version pays for reading and indexing it, and
    every later one (other workers, restarts, reloads) maps the snapshot.
    With ``shared``, a host without the folder first fetches it from there,
    and a host that had to build it leaves it there for the others.
    """
    if folder is None:
        return build()
    got = snapshot.read(folder)
    if got is not None:
        return Dataset.from_snapshot(got, path=path)
    with contextlib.ExitStack() as held:
        held.enter_context(snapshot.building(folder))
        got = snapshot.read(folder)  # another worker may have built it meanwhile
        if got is None:
            snapshot.discard(folder)  # torn, or written by an older format
            fetched = _fetch(folder, shared, path, held) if shared is not None else None
            if fetched is not None:
                return fetched
            ds = build()
            if snapshot.write(folder, ds.snapshot_contents()):
                got = snapshot.read(folder)
            if got is None:
                return ds
            # Serve the mapped copy, as every other worker will: the built
            # one holds its whole frame and private copies of every column.
            del ds
            if shared is not None:
                shared.put(folder)
    return Dataset.from_snapshot(got, path=path)


def settle(timeout: float | None = None) -> None:
    """Wait until snapshots fetched by this process are complete on disk."""
    for t in list(_FINISHING):
        t.join(timeout)


def _fetch(folder: Path, shared: snapshot.Shared, path: Path | None,
           held: contextlib.ExitStack) -> Dataset | None:
    """The dataset of the snapshot another host left in ``shared``; None if there is none.

    The trees are built while the columns (most of the bytes) still arrive,
    and the dataset is served from the fetched files at once. Writing this
    host's trees beside them and moving the folder into place happen after,
    on a thread that keeps the building lock (taken over from ``held``) until
    the folder is whole, so other workers wait for it and then map it.
    """
    try:
        tmp = snapshot.staging(folder)
    except OSError:
        return None
    pool = ThreadPoolExecutor(1)
    trees: list[Future[Any]] = []

    def arrays_ready() -> None:
        trees.append(pool.submit(_trees_of, tmp))

    handed = False
    try:
        meta = shared.get(tmp, ready=arrays_ready)
        if meta is None:
            return None
        if not trees:
            arrays_ready()
        parts = snapshot.read_parts(tmp, meta, trees=trees[0].result())
        if parts is None:
            return None
        ds = Dataset.from_snapshot(parts, path=path)
        lock = held.pop_all()
        finisher = threading.Thread(target=_finish, args=(tmp, folder, parts.trees, meta, lock),
                                    name="snapshot-finish")
        _FINISHING[:] = [t for t in _FINISHING if t.is_alive()] + [finisher]
        finisher.start()
        handed = True
        return ds
    except Exception as exc:  # a fetch that failed half-way: this host builds its own
        log.warning("could not use the fetched snapshot in %s: %s", tmp, exc)
        return None
    finally:
        pool.shutdown(wait=True)
        if not handed:
            snapshot.discard(tmp)


def _trees_of(tmp: Path) -> Any:
    arrays = {name: np.load(tmp / "arrays" / f"{name}.npy", mmap_mode="r", allow_pickle=False)
              for name in ("lon", "lat", "kind", "status")}
    return build_trees(arrays["lon"], arrays["lat"], arrays["kind"], arrays["status"])


def _finish(tmp: Path, folder: Path, trees: Any, meta: dict[str, Any],
            lock: contextlib.ExitStack) -> None:
    with lock:
        try:
            snapshot.finish(tmp, folder, trees=trees, meta=meta)
        finally:
            snapshot.discard(tmp)  # gone already when it was moved into place
