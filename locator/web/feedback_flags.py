"""The feedback flags for the public answers of this process.

Every public answer that lists stations carries ``reported`` and
``last_verified``; this module fetches the cached flags (a database that is
away only hides them, the map keeps answering), gives the columns for rows of
the served dataset, and the stamp that answers' validators and cached bodies
fold in, so a new report or confirmation changes their ETag.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from flask import current_app

from locator.living import flagcols, flags
from locator.stations.columns import take
from locator.stations.dataset import Dataset
from locator.stations.prebuilt import members_of

Extra = Callable[[np.ndarray], Mapping[str, Sequence[Any]]]
ExtraJSON = Callable[[np.ndarray], list[bytes]]


def now() -> flags.Flags:
    """Open reports and the newest checks; empty when the database is away."""
    cfg = current_app.config
    try:
        return flags.current(cfg, float(cfg["DATA_RELOAD_SECONDS"]))
    except Exception as exc:  # the map must keep answering without the write path
        current_app.logger.warning("feedback flags unavailable: %s", exc)
        return flags.Flags()


def stamp() -> str:
    return flagcols.stamp(now())


def for_rows(ds: Dataset, *, as_text: bool = False) -> Extra:
    """A function giving ``reported`` and ``last_verified`` for rows of ``ds``.

    ``reported`` is a list of reasons, or with ``as_text`` one ``;``-joined string,
    as the OGC items give amenities for GIS tools.
    """
    got = now()

    def extra(rows: np.ndarray) -> Mapping[str, Sequence[Any]]:
        ids = take(ds.columns["id"], rows)
        col = ds.columns.get("verified_at")
        verified = take(col, rows) if col is not None else [None] * len(ids)
        reported: Sequence[Any] = flagcols.reported(ids, got).tolist() if as_text else \
            list(flagcols.reported_lists(ids, got))
        return {"reported": reported,
                "last_verified": flagcols.last_verified(ids, verified, got).tolist()}

    return extra


def for_few(ds: Dataset, got: flags.Flags | None = None) -> Extra:
    """As :func:`for_rows`, for answers of a few stations (a nearest list).

    ``got`` is the flags to use (fetched now by default), so that an answer
    and the stamp its cache key holds come from the same copy.
    """
    got = now() if got is None else got

    def extra(rows: np.ndarray) -> Mapping[str, Sequence[Any]]:
        recs = ds.values(rows, ["id", "verified_at"])
        return flags.of_few([r["id"] for r in recs], [r.get("verified_at") for r in recs], got)

    return extra


# Encoded flag members per station, kept for one flags stamp: a nearest list
# costs a dictionary lookup per station instead of two columns and an encoding.
_MEMBERS = "feedback_flags.members"
MAX_MEMBERS = 20_000


def json_for_few(ds: Dataset, got: flags.Flags | None = None) -> ExtraJSON:
    """As :func:`for_few`, encoded: per row ``b',"reported":[...],"last_verified":...'``.

    The members are kept on the dataset per flags stamp, so they die with the
    dataset and a new report or confirmation (a new stamp) starts afresh.
    """
    got = now() if got is None else got
    tag = flagcols.stamp(got)
    kept = ds.cache.get(_MEMBERS)
    if kept is None or kept[0] != tag:
        kept = ds.cache[_MEMBERS] = (tag, {})
    cache: dict[int, bytes] = kept[1]
    columns = for_few(ds, got)

    def members(rows: np.ndarray) -> list[bytes]:
        wanted = np.asarray(rows, dtype=np.int64).tolist()
        found = [cache.get(r) for r in wanted]
        missing = [r for r, m in zip(wanted, found, strict=True) if m is None]
        if not missing:
            return found  # type: ignore[return-value]
        cols = columns(np.asarray(missing, dtype=np.int64))
        made = dict(zip(missing, members_of([cols["reported"], cols["last_verified"]],
                                            ["reported", "last_verified"], len(missing)),
                        strict=True))
        if len(cache) + len(made) > MAX_MEMBERS:
            cache.clear()  # bounded, like the prebuilt heads
        cache.update(made)
        return [m if m is not None else made[r] for r, m in zip(wanted, found, strict=True)]

    return members
