"""Staff accounts: argon2-hashed passwords, roles on unions, throttled logins.

Messages never say whether an e-mail address has an account: a wrong
password, an unknown address and a disabled account all read the same, and
an unknown address still costs one hash so that timing does not tell either.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select

from locator.errors import LocatorError
from locator.living import db, unions
from locator.living.models import ROLES, Account, AuditEntry, LoginAttempt, Role, utcnow

_HASHER = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    # Verified against when an address has no account, so that a wrong address
    # costs the same time as a wrong password; made on the first login, not at
    # every worker's start-up.
    return _HASHER.hash("not a password of anyone")

MIN_PASSWORD = 10


@dataclass(frozen=True)
class Staff:
    """A logged-in officer: the e-mail and, per union adcode, the role held there."""

    id: int
    email: str
    roles: Mapping[str, str]


def normalise_email(email: str) -> str:
    text = str(email).strip().lower()
    if not (3 <= len(text) <= 254) or "@" not in text[1:-1] or any(c.isspace() for c in text):
        raise LocatorError(400, "invalid_parameter", "not an e-mail address", "email")
    return text


def _staff(acc: Account) -> Staff:
    return Staff(acc.id, acc.email, {r.union_adcode: r.role for r in acc.roles})


def add(cfg: Mapping[str, Any], email: str, password: str, *, union: str, role: str,
        actor: str = "cli") -> Staff:
    """Create an account with one role; 409 when the address has an account already."""
    address = normalise_email(email)
    if role not in ROLES:
        msg = f"role must be one of {', '.join(ROLES)}"
        raise LocatorError(400, "invalid_parameter", msg, "role")
    if len(password) < MIN_PASSWORD:
        msg = f"the password must have at least {MIN_PASSWORD} characters"
        raise LocatorError(400, "invalid_parameter", msg, "password")
    code = unions.check(union, cfg["BOUNDARIES_DIR"])
    unions.ensure(cfg)
    with db.session(cfg) as s:
        if s.scalar(select(Account.id).where(Account.email == address)) is not None:
            raise LocatorError(409, "conflict", "that address has an account already", "email")
        acc = Account(email=address, password_hash=_HASHER.hash(password),
                      roles=[Role(union_adcode=code, role=role)])
        s.add(acc)
        s.add(AuditEntry(actor=actor, action="account_add", after=f"{address} {role}@{code}"))
        s.flush()
        return _staff(acc)


def listing(cfg: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every account with its roles, for ``locator users list``."""
    with db.session(cfg) as s:
        accs = s.scalars(select(Account).order_by(Account.email)).all()
        return [{"email": a.email, "active": a.active,
                 "roles": ", ".join(f"{r.role}@{r.union_adcode}" for r in a.roles)}
                for a in accs]


def disable(cfg: Mapping[str, Any], email: str, *, actor: str = "cli") -> None:
    address = normalise_email(email)
    with db.session(cfg) as s:
        acc = s.scalar(select(Account).where(Account.email == address))
        if acc is None:
            raise LocatorError(404, "not_found", "no such account", "email")
        acc.active = False
        s.add(AuditEntry(actor=actor, action="account_disable", before=address))


def get(cfg: Mapping[str, Any], account_id: int) -> Staff | None:
    """The active account with this id, or None (a disabled account is logged out)."""
    with db.session(cfg) as s:
        acc = s.get(Account, account_id)
        return _staff(acc) if acc is not None and acc.active else None


def _throttled(s: Any, cfg: Mapping[str, Any], address: str, client: str) -> bool:
    since = utcnow() - timedelta(seconds=float(cfg["LOGIN_LOCK_SECONDS"]))
    by_email = s.scalar(select(func.count()).select_from(LoginAttempt)
                        .where(LoginAttempt.email == address, LoginAttempt.at >= since))
    by_client = s.scalar(select(func.count()).select_from(LoginAttempt)
                         .where(LoginAttempt.client == client, LoginAttempt.at >= since))
    limit = int(cfg["LOGIN_MAX_FAILURES"])
    return bool(by_email >= limit or by_client >= 4 * limit)


def authenticate(cfg: Mapping[str, Any], email: str, password: str, *, client: str) -> Staff:
    """The account for these credentials; 401 for any mismatch, 429 when throttled."""
    try:
        address = normalise_email(email)
    except LocatorError:
        address = str(email).strip().lower()[:254]
    wrong = LocatorError(401, "unauthorized", "wrong e-mail address or password", "password")
    with db.session(cfg) as s:
        if _throttled(s, cfg, address, client):
            raise LocatorError(429, "too_many_requests",
                               "too many failed logins; wait a few minutes and try again")
        acc = s.scalar(select(Account).where(Account.email == address))
        try:
            _HASHER.verify(acc.password_hash if acc is not None else _dummy_hash(),
                           password)
            ok = acc is not None and acc.active
        except (VerificationError, InvalidHashError):
            ok = False
        if not ok or acc is None:
            s.add(LoginAttempt(email=address, client=client[:64]))
        else:
            s.execute(delete(LoginAttempt).where(LoginAttempt.email == address))
            if _HASHER.check_needs_rehash(acc.password_hash):
                acc.password_hash = _HASHER.hash(password)
            s.add(AuditEntry(actor=address, action="login"))
            return _staff(acc)
    raise wrong
