"""The one builder of station masks: kind, status, amenity and open-now.

Every use case that narrows the stations (the nearest search, the map viewport,
the OGC items, coverage and the planner headline) asks this module for a boolean
mask, so the meaning of "a driver home with a toilet that is open now and not
closed" is written once. Masks are vectorised over per-row codes precomputed by
:class:`~locator.stations.dataset.Dataset`; no Python loop touches a row.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

import numpy as np

from locator.domain import hours, schema
from locator.stations.dataset import STATUS_INDEX, Dataset

#: Statuses of stations that serve workers: a planner counts these as coverage.
SERVING = ("open", "temporarily_closed")
#: Statuses a worker is sent to by default.
OPEN_ONLY = ("open",)

_STATE_CODE = {"open": 1, "closed": 0, "unknown": -1}


def serving_statuses(*, include_temporarily_closed: bool) -> tuple[str, ...]:
    """The statuses that count as serving, with or without temporarily closed ones."""
    return SERVING if include_temporarily_closed else OPEN_ONLY


def hour_states(ds: Dataset, when: datetime | None) -> np.ndarray:
    """Open state per distinct hours string: 1 open, 0 closed, -1 unknown.

    A dataset has a few dozen distinct hours strings, not one per station, and
    the answer only changes once a minute, so it is cached per minute on the
    dataset (and dies with it).
    """
    minute = int((when.timestamp() if when is not None else time.time()) // 60)
    cache = ds.hour_state_cache
    got = cache.get(minute)
    if got is None:
        states = hours.evaluate_unique(ds.hours_values, datetime.fromtimestamp(minute * 60, UTC))
        got = np.asarray([_STATE_CODE[states[v]] for v in ds.hours_values], dtype=np.int8)
        if len(cache) > 64:
            cache.clear()
        cache[minute] = got
    return got


def mask(
    ds: Dataset,
    rows: np.ndarray | None = None,
    *,
    kinds: Iterable[str] | None = None,
    statuses: Iterable[str] | None = None,
    amenity_mask: int = 0,
    open_now: bool = False,
    when: datetime | None = None,
) -> np.ndarray:
    """Boolean mask of the stations that pass every given filter.

    Parameters
    ----------
    ds
        The dataset.
    rows
        Row positions to test; ``None`` tests every station. The mask has one
        entry per element of ``rows`` (or per station).
    kinds
        Kind codes to keep; ``None`` or empty keeps every kind.
    statuses
        Status codes to keep; ``None`` or empty keeps every status.
    amenity_mask
        Bit mask of amenities a station must all have (0: no requirement).
    open_now
        Keep only stations whose opening hours say open at ``when``; unknown
        hours do not pass.
    when
        The moment for ``open_now`` (default: now).

    Returns
    -------
    numpy.ndarray
        A boolean array.
    """
    sel: slice | np.ndarray = slice(None) if rows is None else np.asarray(rows, dtype=np.int64)
    n = len(ds) if rows is None else len(sel)  # type: ignore[arg-type]
    keep = np.ones(n, dtype=bool)
    kind_list = list(kinds or ())
    if kind_list:
        keep &= np.isin(ds.kind[sel], [schema.KIND_INDEX[k] for k in kind_list])
    status_list = list(statuses or ())
    if status_list:
        keep &= np.isin(ds.status[sel], [STATUS_INDEX[s] for s in status_list])
    if amenity_mask:
        keep &= (ds.amenities[sel] & amenity_mask) == amenity_mask
    if open_now:
        keep &= hour_states(ds, when)[ds.hours_code[sel]] == 1
    return keep


def row_filter(ds: Dataset, *, kinds: Iterable[str] | None = None,
               statuses: Iterable[str] | None = None, amenity_mask: int = 0,
               open_now: bool = False, when: datetime | None = None,
               ) -> Callable[[np.ndarray], np.ndarray] | None:
    """A filter over candidate rows for the spatial index, or ``None`` when nothing is filtered.

    The index applies it only to the rows it returns, never to every station;
    the hours states are evaluated once, when the filter is built.
    """
    kind_list, status_list = list(kinds or ()), list(statuses or ())
    if not (kind_list or status_list or amenity_mask or open_now):
        return None
    if open_now:
        # One moment for every batch, so a search never straddles a minute boundary.
        when = when or datetime.now(UTC)

    def accept(rows: np.ndarray) -> np.ndarray:
        return mask(ds, rows, kinds=kind_list, statuses=status_list,
                    amenity_mask=amenity_mask, open_now=open_now, when=when)

    return accept
