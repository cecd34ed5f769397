"""Station edits by union staff, published as new versions of the station table.

An edit reads the live version under the store's writer lock, checks that the
station still has the revision the officer saw (its ``If-Match``), applies the
change, appends the audit entries and publishes the whole table as a new
version. Every web process already follows the live version (the storage
watcher polls it, PostGIS also pushes ``NOTIFY``), so an edit reaches all of
them the way an import does, and the version history, rollback, exports and
``modified_since`` see edits with no second code path. The price is one
write of the table per edit, which at the province's size is small.

A station's revision is the hash of its content (the one ``publish`` stores),
so two officers who both saw revision ``r`` cannot both succeed: the second
finds the live row changed and gets 409 ``edit_conflict`` with both versions,
the current record and the change it sent, so that nothing is overwritten
unseen. An edit sent without ``If-Match`` is 428 ``precondition_required`` (RFC 6585:
the server requires the request to be conditional).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from locator.domain import schema
from locator.errors import LocatorError, invalid, not_found
from locator.geo import regions
from locator.living import audited, db, unions
from locator.living.models import AuditEntry, Case, utcnow
from locator.storage import base

EDITABLE = ("opening_hours", "amenities", "phone", "status", "reopens_on", "closed_reason",
            "lon", "lat", "merge_into")
LOCK_WAIT_S = 10.0


@dataclass(frozen=True)
class Edited:
    """What an edit produced: the station as now published, its revision, the version."""

    station: dict[str, Any]
    etag: str
    version: str


def revision(frame: gpd.GeoDataFrame, row: int) -> str:
    """The revision of one row: its content hash, as an ETag value."""
    h = base.row_hashes(frame.iloc[[row]])[0]
    return f'"{int(h):016x}"'


def _clean_etag(value: str) -> str:
    v = value.strip()
    return v[2:] if v.startswith("W/") else v


def _echo(changes: Mapping[str, Any]) -> dict[str, Any]:
    """The officer's change as sent, cut short: a conflict shows it beside the current one."""
    out: dict[str, Any] = {}
    for key in EDITABLE:
        if key not in changes:
            continue
        v = changes[key]
        if isinstance(v, str):
            v = v[:schema.MAX_TEXT]
        elif isinstance(v, list):
            v = [str(a)[:40] for a in v[:40]]
        elif not isinstance(v, int | float | bool) and v is not None:
            v = str(v)[:100]
        out[key] = v
    return out


def allowed_counties(roles: Mapping[str, str], boundaries_dir: str) -> set[str]:
    """Counties an officer may edit: the subtrees of the unions they hold an editor role on."""
    out: set[str] = set()
    for union, role in roles.items():
        if role in ("editor", "admin"):
            out |= unions.counties_under(union, boundaries_dir)
    return out


def record(frame: gpd.GeoDataFrame, row: int) -> dict[str, Any]:
    """One row as plain JSON-ready values, with ``lon``/``lat``."""
    r = frame.iloc[row]
    out = {c: (None if _missing(r[c]) else r[c]) for c in schema.FIELDS if c in frame.columns}
    out["amenities"] = schema.split_amenities(out.get("amenities"))
    for k in ("demo", "approximate"):
        out[k] = bool(out.get(k))
    out["lon"] = round(float(r.geometry.x), 7)
    out["lat"] = round(float(r.geometry.y), 7)
    return out


def _missing(v: Any) -> bool:
    return v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v))


@contextmanager
def _writer(source: base.StationSource) -> Iterator[None]:
    """The store's writer lock, waited for: edits queue behind each other, not fail."""
    deadline = time.monotonic() + LOCK_WAIT_S
    while True:
        try:
            cm = source.lock()
            cm.__enter__()
        except LocatorError as exc:
            if exc.code != "busy" or time.monotonic() > deadline:
                raise
            time.sleep(0.05)
            continue
        break
    try:
        yield
    except BaseException as exc:
        if not cm.__exit__(type(exc), exc, exc.__traceback__):
            raise
    else:
        cm.__exit__(None, None, None)


def _row_of(frame: gpd.GeoDataFrame, station_id: str) -> int:
    hits = np.flatnonzero(frame["id"].astype(str).to_numpy() == station_id)
    if not len(hits):
        raise not_found(f"no station with id {station_id[:64]!r}", "id")
    return int(hits[0])


def _check_keys(changes: Mapping[str, Any]) -> None:
    if not changes:
        raise invalid("body", "send at least one field to change")
    for key in changes:
        if key not in EDITABLE:
            raise invalid(str(key)[:40], f"{str(key)[:40]!r} cannot be edited here; "
                          f"editable: {', '.join(EDITABLE)}")


def _text(changes: Mapping[str, Any], key: str, limit: int = schema.MAX_TEXT) -> str | None:
    v = changes[key]
    if v is None:
        return None
    if not isinstance(v, str):
        raise invalid(key, f"{key} must be text")
    v = "".join(ch for ch in v if ch.isprintable()).strip()
    if len(v) > limit:
        raise invalid(key, f"{key} has at most {limit} characters")
    return v or None


def _amenities(value: Any) -> str:
    listed = value if isinstance(value, list) else schema.split_amenities(value)
    codes = [str(a) for a in listed]
    schema.parse_amenities(codes, field="amenities")
    return ";".join(dict.fromkeys(codes))


def _status_fields(current: Mapping[str, Any], changes: Mapping[str, Any],
                   out: dict[str, Any]) -> None:
    """Status with its details: a reopening date when temporarily closed, a reason when closed."""
    status = changes.get("status", current["status"])
    if status not in schema.STATUS_CODES:
        raise invalid("status", f"status must be one of {', '.join(schema.STATUS_CODES)}")
    reopens = _text(changes, "reopens_on", 10) if "reopens_on" in changes else None
    reason = _text(changes, "closed_reason", 200) if "closed_reason" in changes else None
    if status == "temporarily_closed":
        if current["status"] == "closed" and "status" in changes:
            raise LocatorError(409, "station_closed", "the station is closed; reopen it "
                               "before marking it temporarily closed", "status")
        reopens = reopens or current.get("reopens_on")
        if not reopens:
            raise invalid("reopens_on", "give the reopening date (YYYY-MM-DD)")
        try:
            day = date.fromisoformat(str(reopens))
        except ValueError:
            raise invalid("reopens_on", "the reopening date must be YYYY-MM-DD") from None
        if day < date.today():
            raise invalid("reopens_on", "the reopening date is in the past")
        out.update(status=status, reopens_on=day.isoformat(), closed_reason=reason)
    elif status == "closed":
        reason = reason or current.get("closed_reason")
        if not reason:
            raise invalid("closed_reason", "give the reason the station closed")
        out.update(status=status, reopens_on=None, closed_reason=reason)
    else:
        out.update(status=status, reopens_on=None, closed_reason=None)


def _plan(frame: gpd.GeoDataFrame, row: int, changes: Mapping[str, Any],
          cfg: Mapping[str, Any], allowed: set[str]) -> tuple[dict[str, Any], Any]:
    """The new field values of the row and its new point (or None), validated."""
    current = record(frame, row)
    out: dict[str, Any] = {}
    if "opening_hours" in changes:
        out["opening_hours"] = _text(changes, "opening_hours")
    if "phone" in changes:
        out["phone"] = _text(changes, "phone", 40)
    if "amenities" in changes:
        out["amenities"] = _amenities(changes["amenities"])
    if {"status", "reopens_on", "closed_reason"} & set(changes):
        _status_fields(current, changes, out)
    point = None
    if "lon" in changes or "lat" in changes:
        try:
            lon = float(changes.get("lon", current["lon"]))
            lat = float(changes.get("lat", current["lat"]))
        except (TypeError, ValueError):
            raise invalid("lon", "lon and lat must be numbers") from None
        west, south, east, north = regions.bounds(str(cfg["BOUNDARIES_DIR"]))
        if not (west <= lon <= east and south <= lat <= north):  # NaN fails too
            raise invalid("lat", "the new point is outside Henan")
        where = regions.assign_counties(np.array([lon]), np.array([lat]),
                                        cfg["BOUNDARIES_DIR"]).iloc[0]
        if where["county_adcode"] not in allowed:
            # In another union's county, or in none: either way not this officer's area.
            raise LocatorError(403, "forbidden", "the new point lies outside your union's "
                               "area", "lat")
        out.update(county_adcode=where["county_adcode"], county=where["county"],
                   city=where["city"])
        point = gpd.points_from_xy([lon], [lat])[0]
    merged = {**current, **out}
    merged["amenities"] = out.get("amenities", ";".join(current["amenities"]))
    problems = schema.validate_record(merged)
    if problems:
        field, reason = problems[0]
        raise invalid(field, f"{field} {reason}")
    return out, point


def _apply(frame: gpd.GeoDataFrame, row: int, values: Mapping[str, Any],
           point: Any) -> gpd.GeoDataFrame:
    for key, value in values.items():
        if frame[key].dtype != object:
            frame[key] = frame[key].astype(object)
        frame.iat[row, frame.columns.get_loc(key)] = value
    if point is not None:
        geoms = frame.geometry.to_numpy().copy()
        geoms[row] = point
        frame = frame.set_geometry(gpd.GeoSeries(geoms, index=frame.index, crs="EPSG:4326"))
    return frame


def _diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> tuple[str, str]:
    keys = [k for k in after if before.get(k) != after.get(k)]
    return (json.dumps({k: before.get(k) for k in keys}, ensure_ascii=False, default=str),
            json.dumps({k: after.get(k) for k in keys}, ensure_ascii=False, default=str))


def edit(cfg: Mapping[str, Any], source: base.StationSource, station_id: str,
         changes: Mapping[str, Any], *, if_match: str | None, actor: str,
         roles: Mapping[str, str]) -> Edited:
    """Apply one officer's change to one station (or merge it into another) and publish it.

    428 without ``if_match``; 409 ``edit_conflict`` when the station changed
    since that revision, with the current record and the submitted change;
    403 outside the officer's subtree; 409 with a code of its own on a
    conflicting state; 400 on bad values. A failed edit changes nothing.
    """
    if not if_match:
        raise LocatorError(428, "precondition_required",
                           "send If-Match with the station's ETag from your last read",
                           "If-Match")
    _check_keys(changes)
    allowed = allowed_counties(roles, cfg["BOUNDARIES_DIR"])
    with _writer(source):
        frame = source.frame().copy()
        row = _row_of(frame, station_id)
        before = record(frame, row)
        if before["county_adcode"] not in allowed:
            raise LocatorError(403, "forbidden", "this station belongs to another union's area")
        now_rev = revision(frame, row)
        if _clean_etag(if_match) not in (now_rev, "*"):
            raise LocatorError(409, "edit_conflict",
                               "the station was changed by someone else since you read it; "
                               "review both versions and edit again", "If-Match",
                               extra={"current": before, "etag": now_rev,
                                      "submitted": _echo(changes),
                                      "submitted_etag": _clean_etag(if_match)[:40]})
        today = date.today().isoformat()
        entries: list[AuditEntry] = []
        if "merge_into" in changes:
            frame = _merge(frame, row, changes, allowed, actor, entries, today)
        else:
            values, point = _plan(frame, row, changes, cfg, allowed)
            values["verified_at"] = today  # an officer's edit is a check of the station
            frame = _apply(frame, row, values, point)
            after = record(frame, row)
            b, a = _diff(before, after)
            entries.append(AuditEntry(actor=actor, action="station_edit",
                                      station_id=station_id, before=b, after=a))
        name = audited.publish(cfg, source, frame, entries,
                        {"kind": "edit", "by": actor, "station": station_id})
        return Edited(record(frame, row), revision(frame, row), name)


def _merge(frame: gpd.GeoDataFrame, row: int, changes: Mapping[str, Any], allowed: set[str],
           actor: str, entries: list[AuditEntry], today: str) -> gpd.GeoDataFrame:
    """Close ``row`` as a duplicate of ``merge_into``, which gains its amenities."""
    target_id = str(changes["merge_into"])[:64]
    target = _row_of(frame, target_id)
    if target == row:
        raise LocatorError(409, "merge_into_self", "a station cannot be merged into itself",
                           "merge_into")
    tb = record(frame, target)
    if tb["county_adcode"] not in allowed:
        raise LocatorError(403, "forbidden", "the other station belongs to another union's area",
                           "merge_into")
    if tb["status"] == "closed":
        raise LocatorError(409, "merge_target_closed", "the other station is closed",
                          "merge_into")
    db_ = record(frame, row)
    if db_["status"] == "closed":
        raise LocatorError(409, "station_closed", "this station is closed already",
                          "merge_into")
    amen = ";".join(dict.fromkeys([*tb["amenities"], *db_["amenities"]]))
    frame = _apply(frame, target, {"amenities": amen, "verified_at": today}, None)
    frame = _apply(frame, row, {"status": "closed", "reopens_on": None, "verified_at": today,
                                "closed_reason": f"duplicate of {target_id}"}, None)
    for r, before in ((row, db_), (target, tb)):
        b, a = _diff(before, record(frame, r))
        entries.append(AuditEntry(actor=actor, action="station_merge",
                                  station_id=str(before["id"]), before=b, after=a))
    return frame


def accept_suggestion(cfg: Mapping[str, Any], source: base.StationSource, case_id: int, *,
                      actor: str, roles: Mapping[str, str], reply: str | None) -> Edited:
    """Turn a worker's suggested station into a published station and close its case."""
    allowed = allowed_counties(roles, cfg["BOUNDARIES_DIR"])
    with _writer(source):
        with db.session(cfg) as s:
            case = s.get(Case, case_id)
            if case is None or case.kind != "suggestion":
                raise not_found("no such suggestion", "id")
            if case.county_adcode not in allowed:
                raise LocatorError(403, "forbidden", "this case belongs to another union's area")
            if case.state != "open":
                raise LocatorError(409, "case_closed", f"the case is {case.state} already", "id")
            lon, lat = float(case.lon or 0), float(case.lat or 0)
            name, kind, amen = case.station_name or "", case.suggested_kind, case.amenities
        frame = source.frame().copy()
        where = regions.assign_counties(np.array([lon]), np.array([lat]),
                                        cfg["BOUNDARIES_DIR"]).iloc[0]
        sid = f"suggested-{case_id}"
        rec = dict.fromkeys(schema.FIELDS)
        rec.update(id=sid, kind=kind, name=name, amenities=_amenities(amen or ""),
                   county_adcode=where["county_adcode"], county=where["county"],
                   city=where["city"], access="public", status="open",
                   verified_at=date.today().isoformat(), source="suggestion", demo=False,
                   approximate=False)
        problems = schema.validate_record(rec)
        if problems:
            raise invalid(problems[0][0], f"{problems[0][0]} {problems[0][1]}")
        if sid in set(frame["id"].astype(str)):
            raise LocatorError(409, "suggestion_accepted", "the suggestion was accepted already",
                                  "id")
        new = gpd.GeoDataFrame([rec], geometry=gpd.points_from_xy([lon], [lat]),
                               crs="EPSG:4326")
        frame = gpd.GeoDataFrame(pd.concat([frame, new[frame.columns.intersection(
            new.columns)]], ignore_index=True), geometry="geometry", crs="EPSG:4326")
        row = len(frame) - 1
        after = record(frame, row)

        def close_case(s: Session) -> None:
            case = s.get(Case, case_id, with_for_update=True)
            if case is None or case.state != "open":
                raise LocatorError(409, "case_closed", "the case was handled meanwhile", "id")
            case.state, case.reply, case.resolved_by = "resolved", reply, actor
            case.resolved_at = case.updated_at = utcnow()
            case.station_id = sid

        entry = AuditEntry(actor=actor, action="suggestion_accepted", station_id=sid,
                           before=None, after=json.dumps(after, ensure_ascii=False,
                                                         default=str))
        published = audited.publish(cfg, source, frame, [entry],
                             {"kind": "suggestion", "by": actor, "station": sid},
                             within=close_case)
        return Edited(after, revision(frame, row), published)
