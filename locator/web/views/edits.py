"""Station edits by union staff over JSON: read a station with its ETag, change it with
``If-Match``, accept a suggested station. The subtree checks are in
:mod:`locator.living.edits`, on the server, for every request."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint, current_app, request
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from locator.errors import LocatorError, invalid, not_found
from locator.living import edits
from locator.web import state

bp = Blueprint("station_edits", __name__, url_prefix="/api/v1/admin")
_NO_STORE = {"Cache-Control": "no-store"}


def _roles() -> Mapping[str, str]:
    return dict(current_user.staff.roles)


def _after_publish() -> None:
    """Serve the new version in this process at once; the others follow by their watcher."""
    watch = current_app.extensions["locator.watcher"]
    watch.nudge()
    watch.wait()


def _answer(done: edits.Edited) -> ResponseReturnValue:
    _after_publish()
    body = {"station": done.station, "etag": done.etag, "version": done.version}
    return body, 200, {**_NO_STORE, "ETag": done.etag}


@bp.get("/stations/<station_id>")
@login_required
def read(station_id: str) -> ResponseReturnValue:
    """The station as served here, with the revision an edit must name in ``If-Match``."""
    ds = state.current()
    row = ds.row(station_id[:64])
    rec = edits.record(ds.frame, row)
    if rec["county_adcode"] not in edits.allowed_counties(_roles(),
                                                          current_app.config["BOUNDARIES_DIR"]):
        raise LocatorError(403, "forbidden", "this station belongs to another union's area")
    tag = edits.revision(ds.frame, row)
    return {"station": rec, "etag": tag}, 200, {**_NO_STORE, "ETag": tag}


@bp.patch("/stations/<station_id>")
@login_required
def patch(station_id: str) -> ResponseReturnValue:
    data: Any = request.get_json(silent=True)
    if not isinstance(data, Mapping):
        raise invalid("body", "send a JSON object of the fields to change")
    done = edits.edit(current_app.config, state.source(), station_id[:64], data,
                      if_match=request.headers.get("If-Match"),
                      actor=current_user.staff.email, roles=_roles())
    return _answer(done)


@bp.post("/cases/<case_id>/accept")
@login_required
def accept(case_id: str) -> ResponseReturnValue:
    """Publish a worker's suggested station and close its case with a reply."""
    if not case_id.isdigit() or len(case_id) > 18:
        raise not_found("no such case", "id")
    data: Any = request.get_json(silent=True) or {}
    if not isinstance(data, Mapping):
        raise invalid("body", "send a JSON object")
    from locator.living.cases import clean_text

    done = edits.accept_suggestion(current_app.config, state.source(), int(case_id),
                                   actor=current_user.staff.email, roles=_roles(),
                                   reply=clean_text(data.get("reply"), field="reply"))
    return _answer(done)
