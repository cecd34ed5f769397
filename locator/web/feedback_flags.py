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

Extra = Callable[[np.ndarray], Mapping[str, Sequence[Any]]]


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
