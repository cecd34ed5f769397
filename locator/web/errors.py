"""Every error leaves as the one JSON shape (see :mod:`locator.errors`)."""

from __future__ import annotations

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from locator.errors import LocatorError, error_body


def _json(status: int, code: str, message: str, field: str | None = None) -> Response:
    resp = jsonify(error_body(status, code, message, field))
    resp.status_code = status
    return resp


def init_app(app: Flask) -> None:
    @app.errorhandler(LocatorError)
    def locator_error(exc: LocatorError) -> Response:
        resp = jsonify(exc.to_dict())
        resp.status_code = exc.status
        return resp

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
