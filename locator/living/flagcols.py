"""The feedback flags as whole columns, for answers of many stations at once.

:func:`locator.living.flags.decorate` fills one station's properties; the map's
markers, the OGC items and the exports carry the same two values for hundreds
or every station, so here they are computed for a whole array of ids with
lookups over columns: ``reported`` (the reasons of the station's open reports,
sorted) and ``last_verified`` (the newer of ``verified_at`` and the newest
worker confirmation, ``YYYY-MM-DD``).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from locator.living.flags import Flags

Values = Sequence[Any] | np.ndarray | pd.Series
SEPARATOR = ";"  # as amenities are joined in flat exports
_STAMPS: dict[int, tuple[Flags, str]] = {}
_LOCK = threading.Lock()


def stamp(got: Flags) -> str:
    """A short digest of the flags' content, for ETags and cache keys.

    Equal content gives equal stamps in every process, so a re-read that finds
    nothing new does not change any validator.
    """
    with _LOCK:
        kept = _STAMPS.get(id(got))
        if kept is not None and kept[0] is got:
            return kept[1]
    h = hashlib.sha1(usedforsecurity=False)
    for sid in sorted(got.reported):
        h.update(f"r\0{sid}\0{SEPARATOR.join(sorted(got.reported[sid]))}\0".encode())
    for sid in sorted(got.confirmed):
        h.update(f"c\0{sid}\0{got.confirmed[sid]}\0".encode())
    digest = h.hexdigest()[:12]
    with _LOCK:
        _STAMPS.clear()  # only the newest flags are asked about
        _STAMPS[id(got)] = (got, digest)
    return digest


def _ids(ids: Values) -> pd.Series:
    return pd.Series(np.asarray(ids, dtype=object)).astype(str)


def _blank(found: pd.Series) -> pd.Series:
    """Looked-up values with '' where there was none (an empty lookup gives floats)."""
    out = found.astype(object)
    return out.where(out.notna(), "")


def reported(ids: Values, got: Flags) -> pd.Series:
    """The sorted reasons of each station's open reports, joined by ``;`` ('' for none)."""
    joined = pd.Series({sid: SEPARATOR.join(sorted(rs)) for sid, rs in got.reported.items()},
                       dtype=object)
    return _blank(_ids(ids).map(joined))


def last_verified(ids: Values, verified_at: Values,
                  got: Flags) -> pd.Series:
    """The newer of each station's ``verified_at`` and newest confirmation (None for neither)."""
    confirmed = _blank(_ids(ids).map(pd.Series(got.confirmed, dtype=object)))
    verified = pd.Series(np.asarray(verified_at, dtype=object)).astype("string").str[:10]
    verified = verified.where(verified.str.match(r"^\d{4}-\d{2}-\d{2}$", na=False), "")
    # ISO dates compare as text.
    a, b = confirmed.to_numpy(dtype=object), verified.to_numpy(dtype=object)
    newest = np.where(a > b, a, b)
    return pd.Series(newest, dtype=object).where(newest != "", None)


def reported_lists(ids: Values, got: Flags) -> np.ndarray:
    """The same reasons as JSON arrays (tuples; empty for none), the station answers' shape."""
    by_id = pd.Series({sid: tuple(sorted(rs)) for sid, rs in got.reported.items()},
                      dtype=object)
    found = _ids(ids).map(by_id)
    out = found.to_numpy(dtype=object, copy=True)
    missing = found.isna().to_numpy()
    none = np.empty(int(missing.sum()), dtype=object)
    none.fill(())
    out[missing] = none
    return out


def add_to_frame(frame: pd.DataFrame, got: Flags) -> pd.DataFrame:
    """A copy of a stations table with ``reported`` and ``last_verified`` columns."""
    out = frame.copy()
    verified = (frame["verified_at"].to_numpy(dtype=object) if "verified_at" in frame
                else np.full(len(frame), None, dtype=object))
    out["reported"] = reported(frame["id"], got).to_numpy()
    out["last_verified"] = last_verified(frame["id"], verified, got).to_numpy()
    return out
