"""Tables of the write path."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String, UniqueConstraint, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

ROLES = ("editor", "admin")
LEVELS = ("province", "city", "county")


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    pass


class Union(Base):
    """A trade union of the hierarchy: the province, its cities, their counties."""

    __tablename__ = "unions"
    adcode: Mapped[str] = mapped_column(String(6), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[str] = mapped_column(String(10))
    parent_adcode: Mapped[str | None] = mapped_column(ForeignKey("unions.adcode"))


class Account(Base):
    __tablename__ = "accounts"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    roles: Mapped[list[Role]] = relationship(back_populates="account", lazy="selectin",
                                             cascade="all, delete-orphan")


class Role(Base):
    """A role held on one union, which covers that union's whole subtree."""

    __tablename__ = "roles"
    __table_args__ = (UniqueConstraint("account_id", "union_adcode"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    union_adcode: Mapped[str] = mapped_column(ForeignKey("unions.adcode"))
    role: Mapped[str] = mapped_column(String(10))
    account: Mapped[Account] = relationship(back_populates="roles")


class LoginAttempt(Base):
    """Failed logins, kept in the database so that every web process throttles alike."""

    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_email_at", "email", "at"),
                      Index("ix_login_attempts_client_at", "client", "at"))
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    client: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditEntry(Base):
    """One change: who, when, what, and the fields before and after. Only ever appended."""

    __tablename__ = "audit"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(40))
    station_id: Mapped[str | None] = mapped_column(String(64), index=True)
    before: Mapped[str | None] = mapped_column()
    after: Mapped[str | None] = mapped_column()


REASONS = ("closed", "moved", "locked", "no_water", "no_toilet", "dirty", "medicine_expired",
           "wrong_hours", "wrong_location", "other")
CASE_STATES = ("open", "resolved", "rejected")


class Case(Base):
    """One thing for a union to look at: a problem reported on a station, or a suggested
    new station. Repeated reports of the same reason on the same station join one open case."""

    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_open", "state", "county_adcode"),
        # At most one open case per station and reason: concurrent reports of the
        # same fault join it instead of racing to open two.
        Index("ux_cases_open_station_reason", "station_id", "reason", unique=True,
              sqlite_where=text("state = 'open' AND kind = 'report'"),
              postgresql_where=text("state = 'open' AND kind = 'report'")),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(12))
    station_id: Mapped[str | None] = mapped_column(String(64))
    station_name: Mapped[str | None] = mapped_column(String(200))
    county_adcode: Mapped[str | None] = mapped_column(String(6))
    reason: Mapped[str | None] = mapped_column(String(20))
    text: Mapped[str | None] = mapped_column(String(500))
    lon: Mapped[float | None] = mapped_column()
    lat: Mapped[float | None] = mapped_column()
    suggested_kind: Mapped[str | None] = mapped_column(String(20))
    amenities: Mapped[str | None] = mapped_column(String(400))
    reports: Mapped[int] = mapped_column(default=1)
    state: Mapped[str] = mapped_column(String(10), default="open")
    reply: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column()
    resolved_by: Mapped[str | None] = mapped_column(String(254))


class Ticket(Base):
    """What one reporter holds: an unguessable code pointing at the case they fed."""

    __tablename__ = "tickets"
    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TicketText(Base):
    """What one reporter wrote, shown back on their own ticket page only. A table of its
    own (not a column of ``tickets``); migration l0002 adds it to older databases."""

    __tablename__ = "ticket_texts"
    code: Mapped[str] = mapped_column(ForeignKey("tickets.code"), primary_key=True)
    text: Mapped[str] = mapped_column(String(500))


class Photo(Base):
    """A photo on a report, as re-encoded without metadata; never the uploaded bytes."""

    __tablename__ = "photos"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    content_type: Mapped[str] = mapped_column(String(20))
    width: Mapped[int] = mapped_column()
    height: Mapped[int] = mapped_column()
    size: Mapped[int] = mapped_column()
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Confirmation(Base):
    """A worker's "still here, all fine": a positive check of a station."""

    __tablename__ = "confirmations"
    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[str] = mapped_column(String(64), index=True)
    county_adcode: Mapped[str | None] = mapped_column(String(6))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class UsedChallenge(Base):
    """Solved proof-of-work challenges, so that one solution buys one submission."""

    __tablename__ = "used_challenges"
    signature: Mapped[str] = mapped_column(String(128), primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
