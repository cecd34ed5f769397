"""Every error leaves as the one JSON shape (see :mod:`locator.errors`)."""

from __future__ import annotations

from flask import Flask, Response, current_app, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from locator.domain import i18n
from locator.errors import LocatorError, error_body

# What a person at a page (not a program at the API) reads when a service behind it is away.
_UNAVAILABLE = {
    "zh_title": "服务暂时不可用",
    "zh_text": "数据库暂时无法连接，请稍后刷新重试。已经查到的站点地图和附近站点查询不受影响。",
    "en_title": "Temporarily unavailable",
    "en_text": "The database cannot be reached right now; please reload in a little while. "
               "The station map and the nearest-station search keep working.",
}


def _json(status: int, code: str, message: str, field: str | None = None) -> Response:
    resp = jsonify(error_body(status, code, message, field))
    resp.status_code = status
    return resp


def init_app(app: Flask) -> None:
    @app.errorhandler(LocatorError)
    def locator_error(exc: LocatorError) -> Response | tuple[str, int, dict[str, str]]:
        if exc.status == 503 and _wants_page():
            return _unavailable_page(exc)
        return _json(exc.status, exc.code, exc.message, exc.field)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response | HTTPException:
        status = exc.code or 500
        code = (exc.name or "error").lower().replace(" ", "_")
        if request.path.startswith("/static/"):
            return exc
        if exc.response is not None:
            # An answer already built in the standard shape (the rate limiter's 429).
            return exc.response  # type: ignore[return-value]
        resp = _json(status, code, exc.description or exc.name or "error")
        # Keep the headers the exception carries (Allow on 405, WWW-Authenticate, Retry-After).
        for name, value in exc.get_headers():
            if name.lower() != "content-type":
                resp.headers[name] = value
        return resp

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Response:
        app.logger.exception("unhandled error", exc_info=exc)
        return _json(500, "internal_error", "the server failed to answer this request")


def _wants_page() -> bool:
    """A browser asking for a page (``/login``, ``/admin``, a ticket), not an API call."""
    if request.path.startswith(("/api/", "/static/")) or request.is_json:
        return False
    accept = request.accept_mimetypes
    return not accept or accept.best_match(["text/html", "application/json"]) == "text/html"


def _unavailable_page(exc: LocatorError) -> tuple[str, int, dict[str, str]]:
    lang = i18n.pick(request.args.get("lang"), current_app.config["DEFAULT_LANG"])
    html = render_template("error.html", lang=lang, strings=i18n.STRINGS[lang], demo=False,
                           code=exc.code, **_UNAVAILABLE)
    return html, exc.status, {"Cache-Control": "no-store", "Retry-After": "5"}
