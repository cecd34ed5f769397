"""Workers' feedback: report a problem, confirm a station, suggest one; the ticket page.

These endpoints take no login, so they carry no CSRF token (there is no
session to ride on). They are guarded instead by a stricter per-client rate
limit, a honeypot field and, unless ``REPORT_CHALLENGE`` is off, a
proof-of-work challenge from ``GET /api/v1/challenge``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from flask import Blueprint, current_app, render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import RequestEntityTooLarge

from locator.domain import i18n, params, schema
from locator.errors import LocatorError, invalid
from locator.geo import regions
from locator.living import cases, challenge, flags, photos
from locator.web import state
from locator.web.sessions import csrf

bp = Blueprint("feedback", __name__)
# Challenges and ticket look-ups are reads: the general API limit covers them, not the
# stricter one of submissions, or a worker solving a challenge would use up a submission.
reads = Blueprint("feedback_reads", __name__)


def _body() -> Mapping[str, Any]:
    data = request.get_json(silent=True) if request.is_json else request.form
    if not isinstance(data, Mapping):
        raise invalid("body", "send a JSON object or a form")
    return data


def _guard(data: Mapping[str, Any]) -> None:
    if data.get("website"):
        # Only a bot fills the hidden field; it learns nothing from the answer.
        raise LocatorError(400, "invalid_parameter", "the submission was refused", "website")
    challenge.check(current_app.config, data.get("altcha"), current_app.config["SECRET_KEY"])


def _station(station_id: str) -> cases.StationRef:
    if len(station_id) > 64:
        raise invalid("id", "a station id has at most 64 characters")
    ds = state.current()
    # Three fields from the dataset's columns: not a row of the whole frame, which the
    # first report would have to build, nor a whole cached record.
    row = ds.fields(ds.row(station_id), ("id", "name", "county_adcode"))
    county = row.get("county_adcode")
    return cases.StationRef(str(row["id"]), str(row["name"]),
                            county if isinstance(county, str) else None)


def _created(code: str) -> ResponseReturnValue:
    lang = i18n.pick(request.args.get("lang"), current_app.config["DEFAULT_LANG"])
    body = {"code": code, "status_url": url_for("feedback_reads.ticket_api", code=code),
            "page": url_for("feedback_reads.ticket_page", code=code, lang=lang)}
    return body, 201, {"Cache-Control": "no-store"}


def client_links(lang: str) -> dict[str, Any]:
    """What a map page needs to offer "report a problem" and "still here" on a station:
    URL templates (``ID0000`` stands for the station id) and the challenge's settings."""
    s = i18n.REPORT_PAGE_STRINGS[lang]
    return {"reportUrl": url_for("feedback_reads.report_page", station_id="ID0000", lang=lang),
            "confirmUrl": url_for("feedback.confirmation", station_id="ID0000"),
            "challenge": bool(current_app.config["REPORT_CHALLENGE"]),
            "challengeUrl": url_for("feedback_reads.new_challenge"),
            "widgetUrl": url_for("static", filename="vendor/altcha/altcha.umd.js"),
            "altchaStrings": {"label": s["altcha_label"], "verifying": s["altcha_verifying"],
                              "verified": s["altcha_verified"], "error": s["altcha_error"]}}


@reads.get("/api/v1/challenge")
def new_challenge() -> ResponseReturnValue:
    """A proof-of-work challenge for the next report, confirmation or suggestion."""
    return challenge.issue(current_app.config["SECRET_KEY"]), 200, {"Cache-Control": "no-store"}


def _photo_upload() -> bytes | None:
    """The raw bytes of an attached photo, size-checked; None when there is none.

    The body is bounded before it is parsed, so an oversized upload is refused
    without being read to the end or spooled to disk.
    """
    limit = int(current_app.config["REPORT_PHOTO_MAX_BYTES"])
    if request.content_length is not None and \
            request.content_length > limit + photos.FORM_MARGIN:
        raise photos.too_large(limit)
    request.max_content_length = limit + photos.FORM_MARGIN
    try:
        upload = request.files.get("photo")
    except RequestEntityTooLarge:
        raise photos.too_large(limit) from None
    if upload is None:
        return None
    raw = upload.stream.read(limit + 1)
    if len(raw) > limit:
        raise photos.too_large(limit)
    if not raw:
        return None  # a form sent with no file chosen
    if photos.sniff(raw[:8]) is None:
        # Checked by content: a text file named .jpg, or sent as image/jpeg, is refused.
        raise photos.bad_photo("the photo must be a JPEG or PNG image")
    return raw


@bp.post("/api/v1/stations/<station_id>/reports")
@csrf.exempt
def report(station_id: str) -> ResponseReturnValue:
    station = _station(station_id)
    raw = None if request.is_json else _photo_upload()
    data = _body()
    reason = cases.check_reason(data.get("reason"))
    text = cases.clean_text(data.get("text"))
    _guard(data)
    # Decoded only after the proof of work: a bot must pay before it costs us a decode.
    photo = photos.clean(raw) if raw is not None else None
    code = cases.report(current_app.config, station, reason, text, photo)
    flags.note_report(current_app.config, station.id, reason)
    return _created(code)


@bp.post("/api/v1/stations/<station_id>/confirmations")
@csrf.exempt
def confirmation(station_id: str) -> ResponseReturnValue:
    station = _station(station_id)
    _guard(_body())
    at = cases.confirm(current_app.config, station)
    flags.note_confirmation(current_app.config, station.id, at.date().isoformat())
    return {"station_id": station.id, "confirmed": True}, 201, {"Cache-Control": "no-store"}


@bp.post("/api/v1/suggestions")
@csrf.exempt
def suggestion() -> ResponseReturnValue:
    data = _body()
    lat = params.number("lat", data.get("lat"), lo=-90, hi=90)
    lon = params.number("lon", data.get("lon"), lo=-180, hi=180)
    name = cases.check_name(data.get("name"))
    kind = data.get("kind", "rest_station")
    if kind not in schema.KIND_CODES:
        raise invalid("kind", f"kind must be one of {', '.join(schema.KIND_CODES)}")
    raw = data.get("amenities") or []
    listed = raw if isinstance(raw, list) else str(raw).split(";")
    unknown = [a for a in listed if a not in schema.AMENITY_CODES]
    if unknown:
        raise invalid("amenities", f"unknown amenity {str(unknown[0])[:30]!r}")
    where = regions.assign_counties(np.array([lon]), np.array([lat]),
                                    current_app.config["BOUNDARIES_DIR"])
    county = where["county_adcode"].iloc[0]
    if not isinstance(county, str):
        # No county of Henan is there: the place the suggestion names is not one served.
        raise LocatorError(404, "not_found", "the point is outside Henan, which this service "
                           "covers", "lat")
    _guard(data)
    return _created(cases.suggest(current_app.config, lon=lon, lat=lat, name=name, kind=kind,
                                  amenities=";".join(listed), county_adcode=county))


@reads.get("/api/v1/reports/<code>")
def ticket_api(code: str) -> ResponseReturnValue:
    return cases.ticket(current_app.config, code), 200, {"Cache-Control": "no-store"}


@reads.get("/r/<code>")
def ticket_page(code: str) -> ResponseReturnValue:
    lang = i18n.pick(request.args.get("lang"), current_app.config["DEFAULT_LANG"])
    s = i18n.FEEDBACK_STRINGS[lang]
    try:
        t = cases.ticket(current_app.config, code)
    except LocatorError as exc:
        if exc.status != 404:  # the database is away: say so, not "no such report"
            raise
        t = None
    html = render_template("ticket.html", lang=lang, s=s, t=t, strings=i18n.STRINGS[lang],
                           demo=False, reasons=i18n.REASON_LABELS[lang])
    return html, (200 if t else 404), {"Cache-Control": "no-store"}


@reads.get("/report/<station_id>")
def report_page(station_id: str) -> ResponseReturnValue:
    """The worker's form: a fixed reason, optional text, or a one-tap confirmation."""
    lang = i18n.pick(request.args.get("lang"), current_app.config["DEFAULT_LANG"])
    station = _station(station_id)
    s = i18n.REPORT_PAGE_STRINGS[lang]
    on = bool(current_app.config["REPORT_CHALLENGE"])
    client = {"t": s, "challenge": on,
              "reportUrl": url_for("feedback.report", station_id=station.id, lang=lang),
              "confirmUrl": url_for("feedback.confirmation", station_id=station.id),
              "photoMaxBytes": int(current_app.config["REPORT_PHOTO_MAX_BYTES"])}
    altcha_strings = {"label": s["altcha_label"], "verifying": s["altcha_verifying"],
                      "verified": s["altcha_verified"], "error": s["altcha_error"]}
    back = url_for("pages.index", lang=lang, station=station.id)
    html = render_template("report.html", lang=lang, s=s, strings=i18n.STRINGS[lang], back=back,
                           demo=state.current().demo, station_name=station.name,
                           reasons=i18n.REASON_LABELS[lang], client=client, challenge=on,
                           altcha_strings=altcha_strings)
    return html, 200, {"Cache-Control": "no-store"}
