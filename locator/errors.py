"""The one error type and the one JSON error shape.

Every failure a client can cause is raised as :class:`LocatorError` from the
core and turned into the same JSON body by the web layer::

    {"status": 400, "code": "invalid_parameter", "message": "...", "field": "lat"}

``field`` is ``null`` when no single input is to blame.
"""

from __future__ import annotations

from typing import Any


class LocatorError(Exception):
    """A failure the caller can act on, carrying its HTTP status.

    Parameters
    ----------
    status
        HTTP status the web layer answers with.
    code
        Stable machine-readable code, e.g. ``"invalid_parameter"``.
    message
        Human-readable explanation of what is wrong and why.
    field
        Name of the offending input, if one is to blame.
    extra
        More keys for the body, e.g. the current record beside a 409 edit conflict, so
        the client can show both versions.
    """

    def __init__(self, status: int, code: str, message: str, field: str | None = None,
                 extra: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.extra = extra or {}

    def to_dict(self) -> dict[str, Any]:
        return {**self.extra, **error_body(self.status, self.code, self.message, self.field)}


MAX_MESSAGE = 200
MAX_QUOTE = 40


def quote(raw: object) -> str:
    """``repr`` of a client's input, cut to a short prefix: errors must not echo it all."""
    text = str(raw)
    if len(text) <= MAX_QUOTE:
        return repr(text)
    return repr(text[:MAX_QUOTE]) + f"… ({len(text)} characters)"


def error_body(status: int, code: str, message: str, field: str | None = None) -> dict[str, Any]:
    """Return the JSON error shape used by every endpoint.

    Messages quote the client's input; whatever their source, they are cut to
    :data:`MAX_MESSAGE` characters so that a huge parameter gives a small answer.
    """
    if len(message) > MAX_MESSAGE:
        message = message[:MAX_MESSAGE] + "…"
    if field is not None and len(field) > MAX_QUOTE:
        field = field[:MAX_QUOTE] + "…"
    return {"status": status, "code": code, "message": message, "field": field}


def invalid(field: str, message: str) -> LocatorError:
    """A 400 naming the parameter that is wrong."""
    return LocatorError(400, "invalid_parameter", message, field)


def not_found(message: str, field: str | None = None) -> LocatorError:
    return LocatorError(404, "not_found", message, field)
