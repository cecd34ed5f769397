"""What public answers show of the feedback loop: open reports and the newest check.

Each web process keeps one small table per database, re-read at most every
``ttl`` seconds with two grouped queries, so a busy map never queries the
database per request and every process converges within that interval. A
report or confirmation made in this process is added to its copy at once
(:func:`note_report`, :func:`note_confirmation`): the reporter sees it on the
next answer, and a burst of reports does not make every answer re-read.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from locator.living import db
from locator.living.models import Case, Confirmation


@dataclass
class Flags:
    """Open report reasons and the newest confirmation date (``YYYY-MM-DD``) per station."""

    reported: dict[str, list[str]] = field(default_factory=dict)
    confirmed: dict[str, str] = field(default_factory=dict)
    at: float = 0.0


_CACHE: dict[str, Flags] = {}
_LOCK = threading.Lock()


def read(cfg: Mapping[str, Any]) -> Flags:
    """The flags from the database, now."""
    with db.session(cfg) as s:
        open_rows = s.execute(select(Case.station_id, Case.reason).where(
            Case.kind == "report", Case.state == "open")).all()
        conf_rows = s.execute(select(Confirmation.station_id, func.max(Confirmation.at))
                              .group_by(Confirmation.station_id)).all()
    reported: dict[str, list[str]] = {}
    for sid, reason in open_rows:
        reported.setdefault(str(sid), []).append(str(reason))
    confirmed = {str(sid): at.date().isoformat() for sid, at in conf_rows if at is not None}
    return Flags(reported, confirmed, time.monotonic())


def current(cfg: Mapping[str, Any], ttl: float) -> Flags:
    """The cached flags, refreshed when older than ``ttl`` seconds."""
    key = db.database_url(cfg)
    got = _CACHE.get(key)
    if got is not None and time.monotonic() - got.at < ttl:
        return got
    with _LOCK:
        got = _CACHE.get(key)
        if got is None or time.monotonic() - got.at >= ttl:
            got = _CACHE[key] = read(cfg)
    return got


def invalidate(cfg: Mapping[str, Any]) -> None:
    """Forget this process's copy (after a change made here)."""
    _CACHE.pop(db.database_url(cfg), None)


def _amend(cfg: Mapping[str, Any], change: Callable[[Flags], Flags | None]) -> None:
    # Under the lock a re-read also holds: a re-read that began before the change
    # was committed cannot land after it and drop it.
    key = db.database_url(cfg)
    with _LOCK:
        got = _CACHE.get(key)
        if got is not None:
            new = change(got)
            if new is not None:
                _CACHE[key] = new


def note_report(cfg: Mapping[str, Any], station_id: str, reason: str) -> None:
    """Add a report committed by this process to its copy, so that its next answers show
    it without re-reading the table; other processes' changes still come with the re-read.

    A new copy, not a change to the old one: answers being built keep theirs, and the
    stamp (kept per copy) changes with it.
    """
    def change(got: Flags) -> Flags | None:
        reasons = got.reported.get(station_id, [])
        if reason in reasons:
            return None  # it joined a case already shown
        return Flags({**got.reported, station_id: [*reasons, reason]}, got.confirmed, got.at)

    _amend(cfg, change)


def note_confirmation(cfg: Mapping[str, Any], station_id: str, on: str) -> None:
    """Add a confirmation committed by this process on ``on`` (``YYYY-MM-DD``) to its copy."""
    def change(got: Flags) -> Flags | None:
        if got.confirmed.get(station_id, "") >= on:
            return None
        return Flags(got.reported, {**got.confirmed, station_id: on}, got.at)

    _amend(cfg, change)


def decorate(props: dict[str, Any], flags: Flags) -> None:
    """Add ``reported`` (open report reasons) and ``last_verified`` to a station's properties."""
    reported, verified = of_station(str(props.get("id")), props.get("verified_at"), flags)
    props["reported"] = reported
    props["last_verified"] = verified


def of_station(sid: str, verified_at: Any, flags: Flags) -> tuple[list[str], str | None]:
    """One station's ``reported`` and ``last_verified``, as :func:`decorate` adds them."""
    dates = [d for d in (verified_at, flags.confirmed.get(sid)) if d]
    return sorted(flags.reported.get(sid, [])), max(str(d)[:10] for d in dates) if dates else None


def of_few(ids: Sequence[str], verified_at: Sequence[Any],
           flags: Flags) -> dict[str, list[Any]]:
    """``reported`` and ``last_verified`` as columns, for an answer of a few stations.

    Dictionary lookups per station: for a dozen rows they cost a fraction of
    the column lookups :mod:`locator.living.flagcols` makes for whole maps.
    """
    sids = list(map(str, ids))
    if len(sids) != len(verified_at):
        msg = "ids and verified_at differ in length"
        raise ValueError(msg)
    if not flags.reported and not flags.confirmed:
        # No open case and no confirmation yet (most of the time on most servers): only
        # the verification dates, without a dictionary lookup per station.
        return {"reported": [[] for _ in sids],
                "last_verified": [str(v)[:10] if v else None for v in verified_at]}
    pairs = [of_station(sid, v, flags) for sid, v in zip(sids, verified_at, strict=True)]
    return {"reported": [p[0] for p in pairs], "last_verified": [p[1] for p in pairs]}
