"""Loading a version through its served snapshot (:mod:`locator.stations.snapshot`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from locator.stations import snapshot
from locator.stations.dataset import Dataset


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
    if got is None:
        with snapshot.building(folder):
            got = snapshot.read(folder)  # another worker may have built it meanwhile
            if got is None:
                snapshot.discard(folder)  # torn, or written by an older format
                got = _fetch(folder, shared) if shared is not None else None
            if got is None:
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


def _fetch(folder: Path, shared: snapshot.Shared) -> snapshot.Contents | None:
    """The snapshot another host left in ``shared``, completed here; None if there is none."""
    try:
        tmp = snapshot.staging(folder)
    except OSError:
        return None
    try:
        meta = shared.get(tmp)
        if meta is None:
            return None
        parts = snapshot.read_parts(tmp, meta)
        if parts is None:
            return None
        ds = Dataset.from_snapshot(parts)  # builds this host's own trees
        trees = (ds.index.state(), ds.index_with_temporary.state())
        del ds, parts
        if not snapshot.finish(tmp, folder, trees=trees, meta=meta):
            return None
    finally:
        snapshot.discard(tmp)
    return snapshot.read(folder)
