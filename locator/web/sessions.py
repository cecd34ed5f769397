"""Staff sessions: the secret key, session cookie flags, CSRF protection, Flask-Login.

Workers never log in; only union staff do, and only their requests carry a
session. Every state-changing request (POST, PUT, PATCH, DELETE) must carry a
CSRF token, as the form field ``csrf_token`` or the ``X-CSRFToken`` header.
"""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask, Response, current_app, g, request
from flask.sessions import SecureCookieSessionInterface, SessionMixin
from flask_login import LoginManager, UserMixin
from flask_wtf.csrf import CSRFError, CSRFProtect

from locator.domain import i18n
from locator.errors import LocatorError, error_body, invalid
from locator.living import accounts
from locator.web.consumers import is_public

log = logging.getLogger(__name__)


class _CSRFProtect(CSRFProtect):
    """Flask-WTF's CSRF protection, answering 400 to a form with a nameless field.

    A multipart part whose ``Content-Disposition`` has no name reaches
    ``request.form`` under the key ``None``; Flask-WTF's search for a prefixed
    token field then fails on it and the request would end in a 500.
    """

    def _get_csrf_token(self) -> Any:
        if None in request.form:
            raise invalid("body", "every field of a form needs a name")
        return super()._get_csrf_token()


csrf = _CSRFProtect()


class _SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, minus ``Vary: Cookie`` on public answers.

    Flask-Login peeks at the session after every request, which would make
    every public answer vary on cookies and split shared caches per visitor;
    public answers never depend on who is logged in.
    """

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if is_public(request.path) and not session.modified and hasattr(session, "accessed"):
            session.accessed = False
        super().save_session(app, session, response)


class Officer(UserMixin):
    """The logged-in staff member, as Flask-Login wants a user."""

    def __init__(self, staff: accounts.Staff) -> None:
        self.staff = staff
        self.email = staff.email

    def get_id(self) -> str:
        return str(self.staff.id)


def _secret_key(app: Flask) -> str:
    """SECRET_KEY, else one kept in DATA_DIR so that every process on it signs alike."""
    if app.config.get("SECRET_KEY"):
        return str(app.config["SECRET_KEY"])
    path = Path(app.config["DATA_DIR"]) / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    key = secrets.token_urlsafe(48)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # O_EXCL: when two processes start at once, one writes and the other reads.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(key)
        return key
    except FileExistsError:
        return path.read_text().strip()
    except OSError as exc:
        log.error("cannot keep a secret key in %s (%s): staff sessions will not survive a "
                  "restart or reach other processes; set SECRET_KEY", path, exc)
        return key


def init_app(app: Flask) -> None:
    app.config["SECRET_KEY"] = _secret_key(app)
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=bool(app.config["SESSION_COOKIE_SECURE"]),
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SECURE=bool(app.config["SESSION_COOKIE_SECURE"]),
        WTF_CSRF_TIME_LIMIT=None,
        WTF_CSRF_SSL_STRICT=False,
    )
    app.session_interface = _SessionInterface()
    csrf.init_app(app)
    manager = LoginManager(app)

    @manager.user_loader
    def load(user_id: str) -> Officer | None:
        if not user_id.isdigit():
            return None
        try:
            staff = accounts.get(current_app.config, int(user_id))
        except LocatorError as exc:
            if exc.status != 503:
                raise
            # The accounts database is away: public pages go on as for anyone, and
            # whatever needs the officer raises this 503 (see ``require_staff``).
            g.staff_unavailable = exc
            return None
        return Officer(staff) if staff is not None else None

    @manager.unauthorized_handler
    def unauthorized() -> Response:
        require_staff()
        return _error(401, "unauthorized", "log in first")

    @app.errorhandler(CSRFError)
    def csrf_failed(_exc: CSRFError) -> Response:
        lang = i18n.pick(request.args.get("lang"), app.config["DEFAULT_LANG"])
        # Forbidden, not malformed: the request is well formed but lacks a valid token.
        return _error(403, "csrf_failed", i18n.STAFF_STRINGS[lang]["csrf_failed"], "csrf_token")


def require_staff() -> None:
    """Raise the 503 of a session whose officer could not be looked up, if there was one."""
    exc = g.pop("staff_unavailable", None)
    if exc is not None:
        raise exc


def _error(status: int, code: str, message: str, field: str | None = None) -> Response:
    resp: Any = current_app.json.response(error_body(status, code, message, field))
    resp.status_code = status
    return resp
