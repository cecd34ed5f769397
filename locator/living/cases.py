"""Workers' reports, confirmations and suggestions, and the unions' queue of cases.

The loop is: a worker reports (or suggests) and gets a ticket code; the case
lands with the union of the county the station lies in; an officer of that
union (or of a union above it) resolves or rejects it with a reply, which the
worker reads on the ticket page. A case left open longer than
``ESCALATE_DAYS`` also shows in the parent union's queue.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from locator.errors import LocatorError
from locator.living import db, filing, photos, unions
from locator.living.filing import CODE_LENGTH, new_code
from locator.living.models import (
    CASE_STATES,
    REASONS,
    AuditEntry,
    Case,
    Confirmation,
    Ticket,
    TicketText,
    utcnow,
)

MAX_TEXT = 500


@dataclass(frozen=True)
class StationRef:
    """What a case needs to know of a station: its id, name and county."""

    id: str
    name: str
    county_adcode: str | None


def clean_text(value: Any, *, field: str = "text", limit: int = MAX_TEXT) -> str | None:
    """Optional free text: stripped, control characters dropped, at most ``limit`` long."""
    if value is None:
        return None
    text = "".join(ch for ch in str(value) if ch.isprintable() or ch == "\n").strip()
    if len(text) > limit:
        raise LocatorError(400, "invalid_parameter",
                           f"at most {limit} characters, got {len(text)}", field)
    return text or None


# A station's name must hold at least one letter, digit or Han character; the document
# gives this pattern, so a client learns the rule before it sends.
NAME_PATTERN = "[0-9A-Za-z\u00c0-\u024f\u3400-\u4dbf\u4e00-\u9fff]"
_NAME = re.compile(NAME_PATTERN)


def check_name(value: Any, *, limit: int = 100) -> str:
    """A suggested station's name: cleaned as free text, with something readable in it."""
    name = clean_text(value, field="name", limit=limit)
    if not name or not _NAME.search(name):
        raise LocatorError(400, "invalid_parameter",
                           "give the station's name (letters, digits or Chinese characters)",
                           "name")
    return name


def check_reason(reason: Any) -> str:
    if reason not in REASONS:
        msg = f"reason must be one of {', '.join(REASONS)}"
        raise LocatorError(400, "invalid_parameter", msg, "reason")
    return str(reason)


def report(cfg: Mapping[str, Any], station: StationRef, reason: str,
           text: str | None = None, photo: photos.Cleaned | None = None) -> str:
    """File a problem report, with its photo if any; returns the reporter's ticket code.

    The case, the ticket, the photo and its audit entry commit together or not at all,
    in a group with the other reports of the moment (:mod:`locator.living.filing`);
    it returns once they are committed.
    """
    reason = check_reason(reason)
    return filing.file(filing.Report(station.id, station.name, station.county_adcode,
                                     reason, clean_text(text), photo, cfg))


def confirm(cfg: Mapping[str, Any], station: StationRef) -> datetime:
    """Record a worker's "still here, all fine"; returns its time (UTC)."""
    at = utcnow()
    with db.session(cfg, write=True) as s:
        s.add(Confirmation(station_id=station.id, county_adcode=station.county_adcode, at=at))
    return at


def suggest(cfg: Mapping[str, Any], *, lon: float, lat: float, name: str, kind: str,
            amenities: str, county_adcode: str | None) -> str:
    """File a suggested new station; returns the ticket code."""
    with db.session(cfg, write=True) as s:
        case = Case(kind="suggestion", station_name=name[:200], county_adcode=county_adcode,
                    lon=lon, lat=lat, suggested_kind=kind, amenities=amenities)
        s.add(case)
        s.flush()
        code = new_code()
        s.add(Ticket(code=code, case_id=case.id))
        return code


def _public(case: Case, code: str, text: str | None) -> dict[str, Any]:
    # The reporter's own words only: a case joined by several reporters keeps one text,
    # which is not this reporter's to read.
    return {"code": code, "kind": case.kind, "reason": case.reason, "state": case.state,
            "text": text,
            "station_id": case.station_id, "station_name": case.station_name,
            "reply": case.reply, "reports": case.reports,
            "created_at": case.created_at.isoformat(timespec="seconds") + "Z",
            "updated_at": case.updated_at.isoformat(timespec="seconds") + "Z",
            "resolved_at": case.resolved_at.isoformat(timespec="seconds") + "Z"
            if case.resolved_at else None}


def ticket(cfg: Mapping[str, Any], code: str) -> dict[str, Any]:
    """What the reporter may see of their case; 404 for an unknown code."""
    key = str(code).strip().upper()[:CODE_LENGTH + 1]
    with db.session(cfg) as s:
        row = s.execute(select(Case, Ticket.code, TicketText.text)
                        .join(Ticket, Ticket.case_id == Case.id)
                        .outerjoin(TicketText, TicketText.code == Ticket.code)
                        .where(Ticket.code == key)).first()
        if row is None:
            raise LocatorError(404, "not_found", "no report with that code", "code")
        return _public(row[0], row[1], row[2])


def _responsible(county: str | None, boundaries_dir: str) -> list[str]:
    """The unions a case climbs through, responsible one first, province last."""
    h = unions.hierarchy(boundaries_dir)
    chain: list[str] = []
    code = county if county in h.index else unions.PROVINCE
    while code is not None:
        chain.append(code)
        parent = h.loc[code, "parent_adcode"]
        code = parent if isinstance(parent, str) else None
    return chain


def queue(cfg: Mapping[str, Any], roles: Mapping[str, str], *, everything: bool = False,
          ) -> list[dict[str, Any]]:
    """Open cases for an officer with these roles.

    A case shows where the officer's union is responsible for it, or is the
    union it has escalated to (one level up per ``ESCALATE_DAYS`` open). With
    ``everything`` the whole subtree's open cases show.
    """
    bdir = cfg["BOUNDARIES_DIR"]
    counties = unions.counties_of(roles, bdir)
    days = float(cfg["ESCALATE_DAYS"])
    now = utcnow()
    with db.session(cfg) as s:
        rows = s.scalars(select(Case).where(Case.state == "open",
                                            Case.county_adcode.in_(counties))
                         .order_by(Case.created_at)).all()
        pictures = photos.ids_by_case(s, [c.id for c in rows])
        out = []
        for c in rows:
            chain = _responsible(c.county_adcode, bdir)
            age = (now - c.created_at).total_seconds() / 86400
            reached = chain[: 1 + int(age // days)] if days > 0 else chain[:1]
            mine = any(u in roles for u in reached)
            if not (mine or everything):
                continue
            out.append({"id": c.id, "kind": c.kind, "station_id": c.station_id,
                        "station_name": c.station_name, "county_adcode": c.county_adcode,
                        "reason": c.reason, "text": c.text, "reports": c.reports,
                        "lon": c.lon, "lat": c.lat, "suggested_kind": c.suggested_kind,
                        "amenities": c.amenities, "age_days": round(age, 1),
                        "escalated": len(reached) > 1 and chain[0] not in roles,
                        "responsible": chain[0], "photos": pictures.get(c.id, [])})
        return out


def resolve(cfg: Mapping[str, Any], case_id: int, *, actor: str, roles: Mapping[str, str],
            outcome: str, reply: str | None) -> dict[str, Any]:
    """Close a case as resolved or rejected, with a reply the reporter reads."""
    if outcome not in CASE_STATES[1:]:
        msg = "outcome must be resolved or rejected"
        raise LocatorError(400, "invalid_parameter", msg, "outcome")
    text = clean_text(reply, field="reply")
    with db.session(cfg) as s:
        case = s.get(Case, case_id, with_for_update=True)
        if case is None:
            raise LocatorError(404, "not_found", "no such case", "id")
        allowed = unions.counties_of(roles, cfg["BOUNDARIES_DIR"])
        if case.county_adcode not in allowed:
            raise LocatorError(403, "forbidden", "this case belongs to another union's area")
        if case.state != "open":
            raise LocatorError(409, "case_closed", f"the case is {case.state} already", "id")
        before = case.state
        case.state, case.reply = outcome, text
        case.resolved_at = case.updated_at = utcnow()
        case.resolved_by = actor
        s.add(AuditEntry(actor=actor, action=f"case_{outcome}", station_id=case.station_id,
                         before=before, after=f"{outcome}: {text or ''}"))
        return {"id": case.id, "state": case.state, "reply": case.reply}


def confirmations_since(cfg: Mapping[str, Any], days: float) -> dict[str, int]:
    """Confirmations per station over the last ``days``."""
    since = utcnow() - timedelta(days=days)
    with db.session(cfg) as s:
        rows = s.execute(select(Confirmation.station_id, func.count())
                         .where(Confirmation.at >= since)
                         .group_by(Confirmation.station_id)).all()
        return {r[0]: int(r[1]) for r in rows}


def history(cfg: Mapping[str, Any], station_id: str, *, roles: Mapping[str, str],
            county_adcode: str | None) -> list[dict[str, Any]]:
    """The audit entries of one station, newest first, for an officer of its area."""
    allowed = unions.counties_of(roles, cfg["BOUNDARIES_DIR"])
    if county_adcode not in allowed:
        raise LocatorError(403, "forbidden", "this station belongs to another union's area")
    with db.session(cfg) as s:
        rows = s.scalars(select(AuditEntry).where(AuditEntry.station_id == station_id)
                         .order_by(AuditEntry.id.desc())).all()
        return [{"at": r.at.isoformat(timespec="seconds") + "Z", "actor": r.actor,
                 "action": r.action, "before": r.before, "after": r.after} for r in rows]
