"""Work that planning runs on one dataset share, kept with what it was derived from.

A run's coverage (distances, exact covered area) depends on the stations, the
kinds, the radius, the detour, the demand layer and the distance kind, not on
how many sites are asked for; the reduced siting problem depends on that and
on the candidates. Both are kept in the dataset's ``cache``, so a preset and the
same custom parameters, or the page's plan and a larger one, compute them once,
and they are dropped with the dataset when a new version is published. Demand
layers read onto the grid are kept on the grid (they do not depend on stations).
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from locator.planning import demand
from locator.planning.grid import Grid
from locator.stations.dataset import Dataset

T = TypeVar("T")
# Each kept problem is a few tens of MB at province scale; a handful is plenty
# for the presets a planner page offers.
MAX_PER_KIND = {"coverage": 6, "exact": 6, "problem": 3}
_lock = threading.Lock()


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


def kept(ds: Dataset, kind: str, k: str, build: Callable[[], T]) -> T:
    """``build()`` once per key on ``ds``; the least recently used beyond a few are dropped.

    Two runs asking for the same key at once (the page's first answer and its
    full run) build it once: the second waits for the first.
    """
    with _lock:
        store: OrderedDict[str, Any] = ds.cache.setdefault(f"planning.{kind}", OrderedDict())
        if k in store:
            store.move_to_end(k)
            return store[k]
        building: dict[str, threading.Lock] = ds.cache.setdefault("planning.building", {})
        one = building.setdefault(f"{kind}:{k}", threading.Lock())
    with one:
        with _lock:
            if k in store:
                return store[k]
        value = build()
        with _lock:
            store[k] = value
            while len(store) > MAX_PER_KIND.get(kind, 4):
                store.popitem(last=False)
            building.pop(f"{kind}:{k}", None)
    return value


def has(ds: Dataset, kind: str, k: str) -> bool:
    """Whether ``kept(ds, kind, k, ...)`` would answer without building."""
    with _lock:
        return k in ds.cache.get(f"planning.{kind}", {})


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
