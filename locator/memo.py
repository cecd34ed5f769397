"""Per-process caches bounded in bytes, not entries.

An entry count says nothing about memory: one cached province grid at 100 m
cells outweighs thousands of county outlines. Every cache here shares one
least-recently-used store whose total estimated size stays within
``CACHE_MB`` (the settings table); a value larger than the whole budget is
computed and returned but never kept.

Sizes are estimates from what the objects report about themselves:
``nbytes`` for numpy arrays, ``memory_usage(deep=True)`` for frames, the
coordinates of Shapely geometries, lengths of bytes and strings; containers
and dataclasses are summed over their parts.
"""

from __future__ import annotations

import dataclasses
import functools
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, ParamSpec, TypeVar

import numpy as np
import pandas as pd
import shapely

from locator import config

P = ParamSpec("P")
R = TypeVar("R")

# Bytes per coordinate pair of a Shapely geometry, plus a fixed overhead per
# geometry (GEOS object, Python wrapper): measured with tracemalloc.
_COORD_BYTES = 16
_GEOM_BYTES = 100


def _geometry_bytes(values: np.ndarray) -> int:
    geoms = values[shapely.is_geometry(values)]
    if not len(geoms):
        return 0
    return int(shapely.get_num_coordinates(geoms).sum()) * _COORD_BYTES \
        + len(geoms) * _GEOM_BYTES


def size_of(value: Any) -> int:
    """Estimated bytes held by ``value`` (numpy, pandas, geopandas, Shapely, builtins)."""
    if isinstance(value, np.ndarray):
        if value.dtype == object and value.size:
            flat = value.ravel()
            return int(value.nbytes) + _geometry_bytes(flat) \
                + sum(size_of(v) for v in flat if not shapely.is_geometry(v))
        return int(value.nbytes)
    if isinstance(value, pd.DataFrame | pd.Series):
        return _frame_bytes(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return len(value) + sys.getsizeof(b"")
    if isinstance(value, str):
        return sys.getsizeof(value)
    if isinstance(value, dict):
        return sys.getsizeof(value) + sum(size_of(k) + size_of(v) for k, v in value.items())
    if isinstance(value, list | tuple | set | frozenset):
        return sys.getsizeof(value) + sum(size_of(v) for v in value)
    if isinstance(value, shapely.Geometry):
        return _geometry_bytes(np.array([value], dtype=object))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return sys.getsizeof(value) + sum(size_of(getattr(value, f.name))
                                          for f in dataclasses.fields(value))
    return sys.getsizeof(value)


def _frame_bytes(frame: pd.DataFrame | pd.Series) -> int:
    # pandas counts a geometry column as one pointer per row; the shapes are extra.
    total = int(np.sum(frame.memory_usage(deep=True)))
    columns = frame.items() if isinstance(frame, pd.DataFrame) else [(None, frame)]
    for _, col in columns:
        if getattr(col.dtype, "name", "") == "geometry":
            total += _geometry_bytes(np.asarray(col.array, dtype=object))
    return total


class ByteCache:
    """A thread-safe LRU mapping whose values' total :func:`size_of` stays within a budget."""

    def __init__(self, budget: int) -> None:
        self._items: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._lock = threading.Lock()
        self._budget = int(budget)
        self.used = 0

    @property
    def budget(self) -> int:
        return self._budget

    @budget.setter
    def budget(self, value: int) -> None:
        with self._lock:
            self._budget = int(value)
            self._evict()

    def get(self, key: Hashable, default: Any = None) -> Any:
        with self._lock:
            got = self._items.get(key)
            if got is None:
                return default
            self._items.move_to_end(key)
            return got[0]

    def put(self, key: Hashable, value: Any, size: int | None = None) -> bool:
        """Keep ``value`` unless it alone is over budget; return whether it was kept."""
        size = size_of(value) if size is None else int(size)
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self.used -= old[1]
            if size > self._budget:
                return False
            self._items[key] = (value, size)
            self.used += size
            self._evict()
            return key in self._items

    def _evict(self) -> None:
        while self.used > self._budget and self._items:
            _, (_, size) = self._items.popitem(last=False)
            self.used -= size

    def discard(self, match: Callable[[Hashable], bool]) -> None:
        """Drop every entry whose key ``match`` accepts."""
        with self._lock:
            for key in [k for k in self._items if match(k)]:
                self.used -= self._items.pop(key)[1]

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self.used = 0

    def __len__(self) -> int:
        return len(self._items)


def _default_budget() -> int:
    # Read on first use so that a command-line process honours LOCATOR_CACHE_MB too.
    return int(config.load()["CACHE_MB"]) << 20


STORE = ByteCache(0)
_configured = False


def configure(megabytes: float) -> None:
    """Set the shared budget (``CACHE_MB``); the app factory calls it with its settings."""
    global _configured
    STORE.budget = int(megabytes * (1 << 20))
    _configured = True


def store() -> ByteCache:
    if not _configured:
        configure(_default_budget() / (1 << 20))
    return STORE


def cached(fn: Callable[P, R]) -> Callable[P, R]:
    """Like ``functools.cache``, but kept in the shared byte-bounded store.

    Arguments must be hashable; the cached value is shared, so callers must
    not modify it.
    """
    return _wrap(fn, frozenset())


def cached_ignoring(*names: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """:func:`cached`, with the keyword arguments ``names`` left out of the key.

    For arguments that say where to find or keep a value but not what it is,
    such as a folder of files named by their content.
    """
    return lambda fn: _wrap(fn, frozenset(names))


def _wrap(fn: Callable[P, R], ignore: frozenset[str]) -> Callable[P, R]:
    name = f"{fn.__module__}.{fn.__qualname__}"

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        key = (name, args, tuple(sorted((k, v) for k, v in kwargs.items() if k not in ignore)))
        shared = store()
        miss = object()
        got = shared.get(key, miss)
        if got is miss:
            got = fn(*args, **kwargs)
            shared.put(key, got)
        return got

    wrapper.cache_clear = lambda: store().discard(  # type: ignore[attr-defined]
        lambda k: isinstance(k, tuple) and k[:1] == (name,))
    return wrapper
