"""Fixtures and helpers of the write-path tests: both databases, an HTTPS test client.

The PostgreSQL side is a fresh database on the session's one cluster
(``pg_cluster`` of :mod:`tests.backends`).
"""

from __future__ import annotations

import base64
import json
import re

import pytest
from altcha import solve_challenge_v1

from locator import create_app
from tests.backends import fresh_database

PASSWORD = "gongHui-2026-驿站"


def altcha_answer(ch: dict) -> str:
    """The ``altcha`` field for a challenge of ``/api/v1/challenge``, solved with ALTCHA's
    own solver, as the widget does."""
    sol = solve_challenge_v1(ch["challenge"], ch["salt"], ch["algorithm"], ch["maxNumber"])
    payload = {"algorithm": ch["algorithm"], "challenge": ch["challenge"],
               "number": sol.number, "salt": ch["salt"], "signature": ch["signature"]}
    return base64.b64encode(json.dumps(payload).encode()).decode()


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

    def patch(self, path, **kw):
        return self.client.patch(path, base_url="https://localhost", **kw)


def _app(cfg):
    app = create_app(cfg)
    return app, _Https(app.test_client())


def _token(client, path="/login"):
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def login(client, email):
    """Log ``email`` in over JSON; returns the session's CSRF token."""
    token = _token(client)
    r = client.post("/login", json={"email": email, "password": PASSWORD},
                    headers={"X-CSRFToken": token})
    assert r.status_code == 200, r.get_json()
    return r.get_json()["csrf_token"]
