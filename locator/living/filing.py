"""Workers' reports written in groups: a few statements and one commit for many reports.

Each process files reports through one writer thread per database
(:mod:`locator.living.groupcommit`). A group is written in one transaction:

1. one upsert per station and reason of the group opens the case or joins the
   open one (``INSERT … ON CONFLICT`` on the one-open-case index, its count
   raised in SQL), so concurrent reports from other processes add up and a
   second report can never open a second case;
2. the tickets, and the reporters' own words, each in one multi-row insert;
3. photos, with their audit entries, one by one (rare, and each is big).

When a group fails for another reason than the database being away, each of
its reports is written again on its own, so one bad report fails alone and
the others are neither lost nor written twice.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, func, insert, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from locator.errors import LocatorError
from locator.living import db, groupcommit, photos
from locator.living.models import Case, Ticket, TicketText, utcnow

_CASES = cast(Table, Case.__table__)
_TICKETS = insert(cast(Table, Ticket.__table__))
_TEXTS = insert(cast(Table, TicketText.__table__))
# The predicate of ``ux_cases_open_station_reason``, word for word: SQLite picks a
# partial index as the conflict target only when the two match.
_OPEN_REPORT = text("state = 'open' AND kind = 'report'")
ATTEMPTS = 3
MOST = 64
# No 0/O, 1/I/L: a worker may read the code out over the phone.
_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 10


def new_code() -> str:
    """A reporter's ticket code: short, unguessable, easy to read out."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(CODE_LENGTH))


@dataclass(frozen=True)
class Report:
    """One report to file: the station's id, name and county, the reason, the words, a photo."""

    station_id: str
    station_name: str
    county_adcode: str | None
    reason: str
    text: str | None
    photo: photos.Cleaned | None
    cfg: Mapping[str, Any]


def _case_upsert(dialect: Any) -> Any:
    stmt = dialect.insert(_CASES)
    return stmt.on_conflict_do_update(
        index_elements=[_CASES.c.station_id, _CASES.c.reason], index_where=_OPEN_REPORT,
        # Counted in SQL, so that concurrent groups of other processes add up; the
        # first words a case got stay its words.
        set_={"reports": _CASES.c.reports + stmt.excluded.reports,
              "updated_at": stmt.excluded.updated_at,
              "text": func.coalesce(_CASES.c.text, stmt.excluded.text)},
    ).returning(_CASES.c.id, _CASES.c.station_id, _CASES.c.reason)


_UPSERTS = {"sqlite": _case_upsert(sqlite), "postgresql": _case_upsert(postgresql)}


def _write(s: Session, group: Sequence[Report]) -> list[str]:
    """File ``group`` in the session's transaction; the ticket codes, in order."""
    now = utcnow()
    keyed: dict[tuple[str, str], dict[str, Any]] = {}
    for r in group:
        row = keyed.get((r.station_id, r.reason))
        if row is None:
            keyed[(r.station_id, r.reason)] = {
                "kind": "report", "state": "open", "station_id": r.station_id,
                "station_name": r.station_name[:200], "county_adcode": r.county_adcode,
                "reason": r.reason, "text": r.text, "reports": 1,
                "created_at": now, "updated_at": now}
        else:
            row["reports"] += 1
            row["text"] = row["text"] or r.text
    # The statements go straight to the session's connection: the ORM's execute adds
    # nothing to a plain insert but its own Python.
    conn = s.connection()
    # In key order: two processes' groups then take the index's row locks in one order
    # and wait for each other instead of deadlocking.
    rows = [keyed[k] for k in sorted(keyed)]
    got = conn.execute(_UPSERTS[conn.dialect.name], rows).all()
    case_of = {(sid, why): int(cid) for cid, sid, why in got}
    codes = [new_code() for _ in group]
    conn.execute(_TICKETS, [{"code": c, "case_id": case_of[(r.station_id, r.reason)],
                          "created_at": now} for c, r in zip(codes, group, strict=True)])
    words = [{"code": c, "text": r.text} for c, r in zip(codes, group, strict=True) if r.text]
    if words:
        conn.execute(_TEXTS, words)
    for r in group:
        if r.photo is not None:
            photos.attach(s, case_of[(r.station_id, r.reason)], r.station_id, r.photo)
    return codes


def _group(group: Sequence[Report]) -> list[str]:
    with db.session(group[0].cfg, write=True) as s:
        return _write(s, group)


def _alone(report: Report) -> str | BaseException:
    failed: BaseException | None = None
    for _attempt in range(ATTEMPTS):
        try:
            return _group([report])[0]
        except IntegrityError as err:
            failed = err  # a ticket code drawn twice, most likely: draw again
        except Exception as err:
            return err
    assert failed is not None
    return failed


def file_group(group: Sequence[Report]) -> list[str | BaseException]:
    """File a group of reports of one database: together, or failing that one by one."""
    if len(group) == 1:
        return [_alone(group[0])]
    try:
        return list(_group(group))
    except LocatorError as err:
        if err.status == 503:
            return [err] * len(group)  # the database is away: so it is for every report
    except Exception:  # one of them is at fault: each goes alone below
        pass
    return [_alone(r) for r in group]


_BATCHERS: dict[str, groupcommit.Batcher[Report, str]] = {}
_LOCK = threading.Lock()


def file(report: Report) -> str:
    """File one report through its database's writer; its ticket code once committed."""
    key = db.database_url(report.cfg)
    batcher = _BATCHERS.get(key)
    if batcher is None:
        with _LOCK:
            batcher = _BATCHERS.setdefault(key, groupcommit.Batcher(
                file_group, most=MOST, name="locator-reports"))
    # Behind one group at most, and each step bounded by the database's timeout.
    wait = 3 * float(report.cfg.get("DATABASE_TIMEOUT", 3.0))
    try:
        return batcher.submit(report, wait_s=wait)
    except groupcommit.BusyError:
        raise LocatorError(503, "unavailable", "too many reports at once; try again") from None
