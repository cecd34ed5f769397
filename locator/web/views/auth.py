"""Staff login and logout (``/login``, ``/logout``) and ``/api/v1/session``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_user, logout_user
from flask_wtf.csrf import generate_csrf

from locator.domain import i18n
from locator.errors import LocatorError
from locator.living import accounts
from locator.web.sessions import Officer, require_staff

bp = Blueprint("auth", __name__)

MESSAGE_KEYS = {401: "login_failed", 429: "login_throttled", 400: "invalid_email"}


def _lang() -> str:
    return i18n.pick(request.args.get("lang"), current_app.config["DEFAULT_LANG"])


def _wants_json() -> bool:
    return request.is_json or request.accept_mimetypes.best == "application/json"


def _page(*, error: str | None = None, email: str = "", status: int = 200) -> ResponseReturnValue:
    lang = _lang()
    officer = current_user if current_user.is_authenticated else None
    html = render_template("login.html", lang=lang, s=i18n.STAFF_STRINGS[lang],
                           strings=i18n.STRINGS[lang], demo=False, error=error, email=email,
                           officer=officer)
    return html, status, {"Cache-Control": "no-store"}


@bp.get("/login")
def login_page() -> ResponseReturnValue:
    return _page()


@bp.post("/login")
def login() -> ResponseReturnValue:
    body = request.get_json(silent=True) if request.is_json else request.form
    data: Mapping[str, Any] = body if isinstance(body, Mapping) else {}
    email = str(data.get("email") or "")[:254]
    password = str(data.get("password") or "")[:200]
    if data.get("website"):
        # The honeypot was filled: answer as for a wrong password.
        err = LocatorError(401, "unauthorized", "wrong e-mail address or password", "password")
    else:
        try:
            staff = accounts.authenticate(current_app.config, email, password,
                                          client=request.remote_addr or "unknown")
        except LocatorError as exc:
            err = exc
        else:
            login_user(Officer(staff))
            if _wants_json():
                return _session_body()
            return redirect(url_for("admin_pages.page", lang=_lang()))
    if _wants_json() or err.status == 503:
        raise err
    lang = _lang()
    message = i18n.STAFF_STRINGS[lang][MESSAGE_KEYS.get(err.status, "login_failed")]
    return _page(error=message, email=email, status=err.status)


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    logout_user()
    if _wants_json():
        return {"logged_in": False}
    return _page()


def _session_body() -> dict[str, object]:
    if not current_user.is_authenticated:
        require_staff()
        return {"logged_in": False, "csrf_token": generate_csrf()}
    staff = current_user.staff
    return {"logged_in": True, "email": staff.email,
            "roles": [{"union": u, "role": r} for u, r in sorted(staff.roles.items())],
            "csrf_token": generate_csrf()}


@bp.get("/api/v1/session")
def session_info() -> ResponseReturnValue:
    """Who is logged in, and the CSRF token a JSON client sends as ``X-CSRFToken``."""
    return _session_body(), 200, {"Cache-Control": "no-store"}
