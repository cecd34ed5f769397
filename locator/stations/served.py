"""Loading a version through its served snapshot (:mod:`locator.stations.snapshot`)."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

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
    and the dataset is served from the fetched buffers at once: writing
    hundreds of megabytes to disk would cost this host as much as fetching
    them. The files, with this host's trees, are written after, on a thread
    that keeps the building lock (taken over from ``held``) until the folder
    is whole, so the host's other workers wait for it and then map it.
    """
    pool = ThreadPoolExecutor(1)
    trees: list[Future[Any]] = []

    def arrays_ready(files: Mapping[str, Any]) -> None:
        a = snapshot.arrays_in(files)
        trees.append(pool.submit(build_trees, a["lon"], a["lat"], a["kind"], a["status"]))

    try:
        got = shared.get(ready=arrays_ready)
        if got is None:
            return None
        if not trees:
            arrays_ready(got.files)
        contents = snapshot.from_memory(got.files, got.meta, trees=trees[0].result())
        if contents is None:
            return None
        ds = Dataset.from_snapshot(contents, path=path)
    except Exception as exc:  # a fetch that failed half-way: this host builds its own
        log.warning("could not use the snapshot fetched for %s: %s", folder, exc)
        return None
    finally:
        pool.shutdown(wait=True)
    finisher = threading.Thread(target=_finish, args=(folder, got, contents.trees,
                                                      held.pop_all()),
                                name="snapshot-finish")
    _FINISHING[:] = [t for t in _FINISHING if t.is_alive()] + [finisher]
    finisher.start()
    return ds


def _finish(folder: Path, fetched: snapshot.Fetched, trees: Any,
            lock: contextlib.ExitStack) -> None:
    with lock:
        if not snapshot.finish(folder, fetched, trees=trees):
            log.warning("could not write the fetched snapshot to %s", folder)
