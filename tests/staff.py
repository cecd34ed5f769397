"""Fixtures and helpers of the write-path tests: both databases, an HTTPS test client.

The PostgreSQL side is a fresh database on the session's one cluster
(``pg_cluster`` of :mod:`tests.backends`).
"""

from __future__ import annotations

import re

import pytest

from locator import create_app
from tests.backends import fresh_database

PASSWORD = "gongHui-2026-驿站"


@pytest.fixture(params=["sqlite", "postgresql"])
def staff_cfg(request, tmp_path):
    url = ""
    if request.param == "postgresql":
        server = request.getfixturevalue("pg_cluster")
        if server is None:
            pytest.skip("PostgreSQL is not installed; `make test` installs it")
        url = fresh_database(server, scheme="postgresql")
    return {"DATA_DIR": str(tmp_path / "var"), "DATABASE_URL": url,
            "DATA_RELOAD_SECONDS": 0}


class _Https:
    """A test client speaking HTTPS, as a browser must for the Secure session cookie."""

    def __init__(self, client):
        self.client = client

    def get(self, path, **kw):
        return self.client.get(path, base_url="https://localhost", **kw)

    def post(self, path, **kw):
        return self.client.post(path, base_url="https://localhost", **kw)


def _app(cfg):
    app = create_app(cfg)
    return app, _Https(app.test_client())


def _token(client, path="/login"):
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


