"""Work that planning runs on one dataset share, kept with what it was derived from.

A run's coverage (distances, exact covered area) depends on the stations, the
kinds, the radius, the detour, the demand layer and the distance kind, not on
how many sites are asked for; the reduced siting problem depends on that and
on the candidates. Both are kept per dataset, so a preset and the
same custom parameters, or the page's plan and a larger one, compute them once.
They are kept in the process's byte-bounded cache (:mod:`locator.memo`), so a
burst of distinct runs cannot hold more than ``CACHE_MB``, and they are dropped
with the dataset when a new version is published. Demand
layers read onto the grid are kept on the grid (they do not depend on stations).
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import threading
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, cast

import numpy as np
from scipy import sparse

from locator import memo
from locator.planning import demand
from locator.planning.grid import Grid
from locator.stations.dataset import Dataset

T = TypeVar("T")
_lock = threading.Lock()
_tokens = itertools.count()


def key(**parts: Any) -> str:
    """A stable text key from plain values."""
    return json.dumps(parts, sort_keys=True, default=str)


def file_key(path: str | Path) -> str:
    """A path with its size and change time, so an edited file is read again."""
    p = Path(path)
    try:
        st = p.stat()
    except OSError:
        return str(p)
    return f"{p.resolve()}:{st.st_size}:{st.st_mtime_ns}"


def own_size(value: Any) -> int:
    """Bytes a kept value holds of its own: its arrays and sparse matrices.

    The grid and the demand layer a coverage points to are shared with the
    grid's own cache entry, so they are not counted again; counting them would
    make a province coverage look larger than the whole budget and never kept.
    """
    if isinstance(value, Grid | demand.Demand):
        return 0
    if isinstance(value, np.ndarray):
        return int(value.nbytes)
    if sparse.issparse(value):
        return sum(int(getattr(value, a).nbytes) for a in ("data", "indices", "indptr", "row",
                                                             "col") if hasattr(value, a))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return 64 + sum(own_size(getattr(value, f.name)) for f in dataclasses.fields(value))
    return memo.size_of(value)


class _Of:
    """Matches the kept keys of one dataset token (a plain object: picklable, typed)."""

    def __init__(self, token: int) -> None:
        self.token = token

    def __call__(self, k: object) -> bool:
        return isinstance(k, tuple) and k[:2] == ("planning", self.token)


def _token(ds: Dataset) -> int:
    """A number for ``ds`` that is never reused; its kept entries go when it does."""
    with _lock:
        got = ds.cache.get("planning.token")
        if got is None:
            got = ds.cache["planning.token"] = next(_tokens)
            weakref.finalize(ds, memo.store().discard, _Of(int(got)))
    return int(got)


def kept(ds: Dataset, kind: str, k: str, build: Callable[[], T]) -> T:
    """``build()`` once per key on ``ds``, kept within the shared byte budget.

    Entries live in the process's byte-bounded cache (``CACHE_MB``), least
    recently used first out, and are dropped with the dataset when a new
    version goes live. Two runs asking for the same key at once (the page's
    first answer and its full run) build it once: the second waits.
    """
    full = ("planning", _token(ds), kind, k)
    store = memo.store()
    miss = object()
    got = store.get(full, miss)
    if got is not miss:
        return cast(T, got)
    with _lock:
        building: dict[str, threading.Lock] = ds.cache.setdefault("planning.building", {})
        one = building.setdefault(f"{kind}:{k}", threading.Lock())
    with one:
        got = store.get(full, miss)
        if got is not miss:
            return cast(T, got)
        value = build()
        store.put(full, value, size=own_size(value))
        with _lock:
            building.pop(f"{kind}:{k}", None)
    return value


def has(ds: Dataset, kind: str, k: str) -> bool:
    """Whether ``kept(ds, kind, k, ...)`` would answer without building."""
    miss = object()
    return memo.store().get(("planning", _token(ds), kind, k), miss) is not miss


def demand_on(g: Grid, path: str | Path) -> demand.Demand:
    """The demand layer at ``path`` read onto ``g``, once per file version."""
    k = ("demand", file_key(path))
    with _lock:
        found = g.cache.get(k)
    if found is None:
        found = demand.load(g, path)
        with _lock:
            g.cache[k] = found
    return found
