"""The public base URL of this deployment, for links other sites keep.

Answers carrying these links are cached publicly (oEmbed, OGC, OpenAPI), so a
forged ``Host`` header must never reach them: without ``PUBLIC_URL`` the
request's host is used only when it is on ``ALLOWED_HOSTS``, else the first
allowed host stands in for it.
"""

from __future__ import annotations

from flask import current_app, g, request


def _allowed(host: str, allowed: list[str]) -> bool:
    name = host.lower()
    bare = name.rsplit(":", 1)[0] if not name.endswith("]") else name
    return any(a.lower() in (name, bare) for a in allowed)


def base_url() -> str:
    """``PUBLIC_URL`` when set, else this request's host if allowed, else a safe default."""
    # Asked for twice a nearest request (its validator and its cache key): once is enough.
    got: str | None = g.get("_base_url")
    if got is None:
        got = g._base_url = _base_url()
    return got


def _base_url() -> str:
    configured = str(current_app.config.get("PUBLIC_URL") or "").rstrip("/")
    if configured:
        return configured
    allowed = list(current_app.config.get("ALLOWED_HOSTS") or ["localhost"])
    if _allowed(request.host, allowed):
        return request.host_url.rstrip("/")
    first = allowed[0]
    port = request.environ.get("SERVER_PORT", "")
    has_port = first.rsplit("]", 1)[-1].count(":") == 1
    suffix = "" if has_port or port in ("", "80", "443") else f":{port}"
    return f"{request.scheme}://{first}{suffix}"
