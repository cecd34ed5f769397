"""The public base URL of this deployment, for links other sites keep."""

from __future__ import annotations

from flask import current_app, request


def base_url() -> str:
    """``PUBLIC_URL`` when set (behind a proxy), else the URL the request came in on."""
    configured = str(current_app.config.get("PUBLIC_URL") or "").rstrip("/")
    return configured or request.host_url.rstrip("/")
