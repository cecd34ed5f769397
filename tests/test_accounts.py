"""Union hierarchy, staff accounts and login, on SQLite and on PostgreSQL."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from argon2 import PasswordHasher
from sqlalchemy import create_engine, text

from locator.geo import regions
from locator.living import accounts, unions
from tests.staff import PASSWORD, _app, _token

BOUNDARIES = "data/boundaries"


def test_hierarchy_mirrors_the_boundaries():
    h = unions.hierarchy(BOUNDARIES)
    counties = regions.counties(BOUNDARIES)
    assert h.loc["410000", "level"] == "province"
    assert (h["level"] == "city").sum() == 18
    # Every county-level unit has a union of its own except Jiyuan, whose city union covers it.
    assert (h["level"] == "county").sum() == len(counties) - 1 == 156
    assert h.loc["410105", "name"] == "金水区总工会"
    assert h.loc["410105", "parent_adcode"] == "410100"
    assert set(h.loc[h["level"] == "city", "parent_adcode"]) == {"410000"}


def test_subtrees():
    counties = regions.counties(BOUNDARIES)
    zz = unions.counties_under("410100", BOUNDARIES)
    assert zz == set(counties.loc[counties["city"] == "郑州市", "county_adcode"])
    assert {"410105", "410103"} <= zz
    assert unions.counties_under("410105", BOUNDARIES) == {"410105"}
    assert unions.counties_under("419001", BOUNDARIES) == {"419001"}
    assert unions.counties_under("410000", BOUNDARIES) == set(counties["county_adcode"])


def test_login_flow_roles_and_cookie_flags(staff_cfg):
    app, client = _app(staff_cfg)
    accounts.add(app.config, "Editor@JinShui.example", PASSWORD, union="410105", role="editor")
    token = _token(client)
    r = client.post("/login", data={"email": "editor@jinshui.example", "password": PASSWORD,
                                    "csrf_token": token})
    assert r.status_code == 302 and r.headers["Location"].startswith("/admin")
    cookie = next(h for h in r.headers.getlist("Set-Cookie") if h.startswith("session="))
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    me = client.get("/api/v1/session").get_json()
    assert me["logged_in"] and me["email"] == "editor@jinshui.example"
    assert me["roles"] == [{"union": "410105", "role": "editor"}]
    # Logging out is a state change: without the token it is refused.
    bad = client.post("/logout", headers={"Accept": "application/json"})
    assert bad.status_code == 400 and bad.get_json()["code"] == "csrf_failed"
    assert client.get("/api/v1/session").get_json()["logged_in"]
    ok = client.post("/logout", headers={"X-CSRFToken": me["csrf_token"],
                                         "Accept": "application/json"})
    assert ok.status_code == 200 and not client.get("/api/v1/session").get_json()["logged_in"]


def test_password_is_an_argon2_hash(staff_cfg):
    app, _ = _app(staff_cfg)
    accounts.add(app.config, "a@union.example", PASSWORD, union="410100", role="admin")
    eng = create_engine(app.config["DATABASE_URL"].replace("postgresql://",
                                                            "postgresql+psycopg://")
                        or f"sqlite:///{app.config['DATA_DIR']}/living.sqlite")
    with eng.connect() as c:
        stored = c.execute(text("SELECT password_hash FROM accounts")).scalar_one()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert PasswordHasher().verify(stored, PASSWORD)


def test_no_csrf_token_no_login(staff_cfg):
    app, client = _app(staff_cfg)
    accounts.add(app.config, "b@union.example", PASSWORD, union="410100", role="editor")
    r = client.post("/login", data={"email": "b@union.example", "password": PASSWORD})
    assert r.status_code == 400
    assert r.get_json() == {"status": 400, "code": "csrf_failed", "field": "csrf_token",
                            "message": "页面已过期，请刷新后重试"}
    assert not client.get("/api/v1/session").get_json()["logged_in"]


@pytest.mark.slow
def test_messages_do_not_tell_whether_an_account_exists(staff_cfg):
    app, client = _app(staff_cfg)
    accounts.add(app.config, "c@union.example", PASSWORD, union="410100", role="editor")
    token = _token(client)
    wrong = client.post("/login", data={"email": "c@union.example", "password": "x" * 12,
                                        "csrf_token": token})
    unknown = client.post("/login", data={"email": "nobody@union.example",
                                          "password": "x" * 12, "csrf_token": token})
    assert wrong.status_code == unknown.status_code == 401
    assert "邮箱或密码不正确" in wrong.get_data(as_text=True)
    # The pages differ only in the e-mail echoed back and the fresh CSRF token.
    def page(r, email):
        html = r.get_data(as_text=True).replace(email, "X")
        return re.sub(r'name="csrf_token" value="[^"]+"', "", html)

    assert page(wrong, "c@union.example") == page(unknown, "nobody@union.example")


@pytest.mark.slow
def test_failed_logins_are_throttled(staff_cfg):
    app, client = _app(staff_cfg)
    accounts.add(app.config, "d@union.example", PASSWORD, union="410100", role="editor")
    token = _token(client)
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        r = client.post("/login", data={"email": "d@union.example", "password": "wrong" * 3,
                                        "csrf_token": token})
        assert r.status_code == 401
    # Now even the right password is refused for a while, in the page's language.
    r = client.post("/login?lang=en", data={"email": "d@union.example", "password": PASSWORD,
                                            "csrf_token": token})
    assert r.status_code == 429 and "Too many failed logins" in r.get_data(as_text=True)
    j = client.post("/login", json={"email": "d@union.example", "password": PASSWORD},
                    headers={"X-CSRFToken": token})
    assert j.status_code == 429 and j.get_json()["code"] == "too_many_requests"
    # A second process on the same database sees the same count.
    _, other = _app(staff_cfg)
    r2 = other.post("/login", json={"email": "d@union.example", "password": PASSWORD},
                    headers={"X-CSRFToken": _token(other)})
    assert r2.status_code == 429


@pytest.mark.slow
def test_disabled_account_is_logged_out(staff_cfg):
    app, client = _app(staff_cfg)
    accounts.add(app.config, "e@union.example", PASSWORD, union="410105", role="editor")
    token = _token(client)
    client.post("/login", data={"email": "e@union.example", "password": PASSWORD,
                                "csrf_token": token})
    assert client.get("/api/v1/session").get_json()["logged_in"]
    accounts.disable(app.config, "e@union.example")
    assert not client.get("/api/v1/session").get_json()["logged_in"]
    r = client.post("/login", json={"email": "e@union.example", "password": PASSWORD},
                    headers={"X-CSRFToken": token})
    assert r.status_code == 401


def test_bad_account_input(staff_cfg):
    app, _ = _app(staff_cfg)
    with pytest.raises(accounts.LocatorError) as e:
        accounts.add(app.config, "not-an-address", PASSWORD, union="410100", role="editor")
    assert e.value.field == "email"
    with pytest.raises(accounts.LocatorError) as e:
        accounts.add(app.config, "f@union.example", "short", union="410100", role="editor")
    assert e.value.field == "password"
    with pytest.raises(accounts.LocatorError) as e:
        accounts.add(app.config, "f@union.example", PASSWORD, union="999999", role="editor")
    assert e.value.field == "union" and e.value.status == 400
    accounts.add(app.config, "f@union.example", PASSWORD, union="410100", role="editor")
    with pytest.raises(accounts.LocatorError) as e:
        accounts.add(app.config, "F@union.example", PASSWORD, union="410100", role="editor")
    assert e.value.status == 409


@pytest.mark.slow
def test_users_command_reads_the_password_from_stdin(tmp_path):
    env_cfg = {"LOCATOR_DATA_DIR": str(tmp_path / "var")}
    import os
    env = {**os.environ, **env_cfg}
    add = subprocess.run([sys.executable, "-m", "locator", "users", "add", "g@union.example",
                          "--union", "410105", "--role", "editor"], input=PASSWORD + "\n",
                         capture_output=True, text=True, env=env, check=False)
    assert add.returncode == 0, add.stderr
    listed = subprocess.run([sys.executable, "-m", "locator", "users", "list"],
                            capture_output=True, text=True, env=env, check=True).stdout
    assert "g@union.example" in listed and "editor@410105" in listed
    staff = accounts.authenticate({"DATA_DIR": env_cfg["LOCATOR_DATA_DIR"],
                                   "LOGIN_MAX_FAILURES": 5, "LOGIN_LOCK_SECONDS": 900},
                                  "g@union.example", PASSWORD, client="t")
    assert staff.roles == {"410105": "editor"}
    bad = subprocess.run([sys.executable, "-m", "locator", "users", "add", "h@union.example",
                          "--union", "123"], input=PASSWORD + "\n", capture_output=True,
                         text=True, env=env, check=False)
    assert bad.returncode == 2 and "union" in bad.stderr
