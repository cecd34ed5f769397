"""The union's work queue over JSON: open cases and stale stations, and resolving a case.

Every route needs a logged-in officer, and every answer is limited to the
officer's unions' subtrees, checked here on the server.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

import pandas as pd
from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from flask_wtf.csrf import generate_csrf

from locator.domain import i18n, schema
from locator.errors import invalid, not_found
from locator.living import cases, flags, photos, unions, unionstats
from locator.web import state
from locator.web.sessions import require_staff

bp = Blueprint("admin", __name__, url_prefix="/api/v1/admin")
pages = Blueprint("admin_pages", __name__)
STALE_SHOWN = 200


def _roles() -> Mapping[str, str]:
    return dict(current_user.staff.roles)


def stale_stations(roles: Mapping[str, str]) -> tuple[int, list[dict[str, Any]]]:
    """Stations in the officer's area with no positive check within ``STALE_DAYS``."""
    cfg = current_app.config
    counties: set[str] = set()
    for union in roles:
        counties |= unions.counties_under(union, cfg["BOUNDARIES_DIR"])
    f = state.current().frame
    days = float(cfg["STALE_DAYS"])
    verified = pd.to_datetime(f["verified_at"], errors="coerce", utc=True)
    mask = f["county_adcode"].isin(counties) & unionstats.stale_mask(
        f, set(cases.confirmations_since(cfg, days)), days)
    picked = f.loc[mask].assign(_v=verified[mask]).sort_values("_v", na_position="first")
    out = picked.head(STALE_SHOWN)
    rows = pd.DataFrame({"station_id": out["id"], "station_name": out["name"],
                         "county_adcode": out["county_adcode"],
                         "verified_at": out["_v"].dt.strftime("%Y-%m-%d").astype(object)})
    rows = rows.astype(object).where(rows.notna(), None)
    return int(mask.sum()), cast(list[dict[str, Any]], rows.to_dict("records"))


@bp.get("/cases")
@login_required
def queue() -> ResponseReturnValue:
    scope = request.args.get("scope", "mine")
    if scope not in ("mine", "all"):
        raise invalid("scope", "scope must be mine or all")
    roles = _roles()
    items = cases.queue(current_app.config, roles, everything=scope == "all")
    stale_count, stale = stale_stations(roles)
    return ({"cases": items, "stale_count": stale_count, "stale": stale,
             "unions": sorted(roles)}, 200, {"Cache-Control": "no-store"})


@bp.post("/cases/<case_id>/resolve")
@login_required
def resolve(case_id: str) -> ResponseReturnValue:
    data = request.get_json(silent=True)
    if not isinstance(data, Mapping):
        raise invalid("body", "send a JSON object with outcome and reply")
    if not case_id.isdigit() or len(case_id) > 18:
        raise not_found("no such case", "id")
    done = cases.resolve(current_app.config, int(case_id), actor=current_user.staff.email,
                         roles=_roles(), outcome=str(data.get("outcome", "resolved")),
                         reply=data.get("reply"))
    flags.invalidate(current_app.config)
    return done, 200, {"Cache-Control": "no-store"}


@bp.get("/photos/<photo_id>")
@login_required
def photo(photo_id: str) -> ResponseReturnValue:
    """A report's photo, for officers of its case's area only.

    The bytes are our own re-encoding, so the declared type is the true one;
    ``nosniff`` keeps a browser from guessing otherwise, and the photo is never
    cached outside this officer's browser.
    """
    if not photo_id.isdigit() or len(photo_id) > 18:
        raise not_found("no such photo", "id")
    pic = photos.fetch(current_app.config, int(photo_id), _roles())
    name = f"report-photo-{photo_id}.{'jpg' if pic.content_type == 'image/jpeg' else 'png'}"
    return pic.data, 200, {"Content-Type": pic.content_type,
                           "X-Content-Type-Options": "nosniff",
                           "Content-Disposition": f'inline; filename="{name}"',
                           "Cache-Control": "private, no-store"}


@bp.get("/stations/<station_id>/history")
@login_required
def station_history(station_id: str) -> ResponseReturnValue:
    ds = state.current()
    row = ds.frame.iloc[ds.row(station_id[:64])]
    county = row["county_adcode"] if isinstance(row["county_adcode"], str) else None
    entries = cases.history(current_app.config, str(row["id"]), roles=_roles(),
                            county_adcode=county)
    return ({"station_id": str(row["id"]), "entries": entries}, 200,
            {"Cache-Control": "no-store"})


@pages.get("/admin")
def page() -> ResponseReturnValue:
    """The work queue page; anyone not logged in is sent to the login page."""
    lang = i18n.pick(request.args.get("lang"), current_app.config["DEFAULT_LANG"])
    if not current_user.is_authenticated:
        require_staff()
        return redirect(url_for("auth.login_page", lang=lang))
    s = i18n.ADMIN_STRINGS[lang]
    client = {"t": s, "reasons": i18n.REASON_LABELS[lang], "csrf": generate_csrf(),
              "casesUrl": url_for("admin.queue"),
              "resolveUrl": url_for("admin.resolve", case_id=0).replace("/0/", "/0000/"),
              "acceptUrl": url_for("station_edits.accept", case_id=0).replace("/0/", "/0000/"),
              "stationUrl": url_for("station_edits.read", station_id="ID0000"),
              "photoUrl": url_for("admin.photo", photo_id="0000"),
              "edit": i18n.EDIT_STRINGS[lang], **_import_client(lang)}
    statuses = [(t.code, schema.label(schema.STATUSES, t.code, lang)) for t in schema.STATUSES]
    amenities = [(t.code, schema.label(schema.AMENITIES, t.code, lang))
                 for t in schema.AMENITIES]
    # A version conflict shows both versions in words, not codes.
    client.update(statusLabels=dict(statuses), amenityLabels=dict(amenities))
    html = render_template("admin.html", lang=lang, s=s, staff=i18n.STAFF_STRINGS[lang],
                           strings=i18n.STRINGS[lang], demo=state.current().demo,
                           email=current_user.staff.email, client=client,
                           e=i18n.EDIT_STRINGS[lang], statuses=statuses, amenities=amenities,
                           **_import_page(lang))
    return html, 200, {"Cache-Control": "no-store"}


def _import_client(lang: str) -> dict[str, Any]:
    """What the import form's script needs."""
    return {"lang": lang, "import": i18n.IMPORT_STRINGS[lang],
            "importUrl": url_for("station_imports.check"),
            "publishUrl": url_for("station_imports.publish", token="TOKEN")}


def _import_page(lang: str) -> dict[str, Any]:
    """The import form's choices: the officer's unions, the datums and the kinds."""
    tree = unions.hierarchy(current_app.config["BOUNDARIES_DIR"])
    mine = sorted(u for u, r in _roles().items() if r in ("editor", "admin"))
    kinds = [(k.code, k.zh if lang == "zh" else k.en) for k in schema.KINDS]
    return {"imp": i18n.IMPORT_STRINGS[lang], "import_kinds": kinds,
            "import_unions": [(u, str(tree.loc[u, "name"]) if u in tree.index else u)
                              for u in mine]}
