"""Station lists uploaded by union staff: check (the row-by-row report), then publish.

The checks of role, union and subtree are in :mod:`locator.web.station_import`, on the
server, for every request; CSRF is checked on both posts like on every other one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict

from flask import Blueprint, current_app, request
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from locator.errors import LocatorError
from locator.ingest.report import ImportRefusedError
from locator.web import state

# ``locator.web.station_import`` (the ingest pipeline) is imported by the handlers:
# loading it costs every worker's start a tenth of a second for a rare staff action.

bp = Blueprint("station_imports", __name__, url_prefix="/api/v1/admin")
_NO_STORE = {"Cache-Control": "no-store"}


def _roles() -> Mapping[str, str]:
    return dict(current_user.staff.roles)


def _refused(exc: ImportRefusedError) -> ResponseReturnValue:
    """The standard error shape, plus the one member the document adds for a refusal: the
    report, which leads with the refusal in both languages (see ``refused_rows``)."""
    from locator.web import station_import

    err = LocatorError(exc.status, exc.code, exc.message, exc.field,
                       extra={"report": station_import.refused_rows(exc)})
    return err.to_dict(), exc.status, _NO_STORE


@bp.post("/imports")
@login_required
def check() -> ResponseReturnValue:
    """Check an uploaded station list; nothing is published yet."""
    from locator.web import station_import

    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise LocatorError(400, "invalid_parameter", "send the station list as the multipart "
                           "field file", "file")
    limit = int(current_app.config["IMPORT_MAX_BYTES"])
    data = upload.stream.read(limit + 1)
    form = request.form
    try:
        done = station_import.check(
            current_app.config, state.source(), data, upload.filename, roles=_roles(),
            actor=current_user.staff.email, union=form.get("union") or None,
            crs=form.get("crs") or None, kind=form.get("kind") or None,
            media_type=upload.mimetype)
    except ImportRefusedError as exc:
        return _refused(exc)
    body = asdict(done)
    body["rejected"] = done.rows_read - done.accepted
    return body, 200, _NO_STORE


@bp.post("/imports/<token>/publish")
@login_required
def publish(token: str) -> ResponseReturnValue:
    """Publish a checked list: the officer's union's source, rows of its subtree only."""
    from locator.web import station_import

    try:
        done = station_import.publish(current_app.config, state.source(), token[:64],
                                      roles=_roles(), actor=current_user.staff.email)
    except ImportRefusedError as exc:
        return _refused(exc)
    if done["version"] is not None:
        # Serve the new version in this process at once; the others follow by their watcher.
        watch = current_app.extensions["locator.watcher"]
        watch.nudge()
        watch.wait()
    return done, 200, _NO_STORE
