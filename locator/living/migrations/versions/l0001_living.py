"""The write path's first tables: unions, accounts, roles, login attempts, the audit
log, cases, tickets, confirmations and used challenges.

A database made before these migrations (the tables were created on first use)
already holds some or all of them, with exactly these columns: its tables are
kept as they are, with their rows, and only the missing ones are created.

Revision ID: l0001
Revises:
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "l0001"
down_revision = None
branch_labels = None
depends_on = None

_OPEN_REPORT = "state = 'open' AND kind = 'report'"


def _tables() -> dict[str, tuple[list[Any], list[tuple[str, list[str], bool]]]]:
    """Each table's columns and constraints, and its indexes (name, columns, unique)."""
    return {
        "unions": ([
            sa.Column("adcode", sa.String(6), primary_key=True),
            sa.Column("name", sa.String(100), nullable=False),
            sa.Column("level", sa.String(10), nullable=False),
            sa.Column("parent_adcode", sa.String(6), sa.ForeignKey("unions.adcode")),
        ], []),
        "accounts": ([
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("email", sa.String(254), nullable=False, unique=True),
            sa.Column("password_hash", sa.String(200), nullable=False),
            sa.Column("active", sa.Boolean, nullable=False),
            sa.Column("created_at", sa.DateTime, nullable=False),
        ], []),
        "roles": ([
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), nullable=False),
            sa.Column("union_adcode", sa.String(6), sa.ForeignKey("unions.adcode"),
                      nullable=False),
            sa.Column("role", sa.String(10), nullable=False),
            sa.UniqueConstraint("account_id", "union_adcode"),
        ], []),
        "login_attempts": ([
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("email", sa.String(254), nullable=False),
            sa.Column("client", sa.String(64), nullable=False),
            sa.Column("at", sa.DateTime, nullable=False),
        ], [("ix_login_attempts_email_at", ["email", "at"], False),
            ("ix_login_attempts_client_at", ["client", "at"], False)]),
        "audit": ([
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("at", sa.DateTime, nullable=False),
            sa.Column("actor", sa.String(254), nullable=False),
            sa.Column("action", sa.String(40), nullable=False),
            sa.Column("station_id", sa.String(64)),
            sa.Column("before", sa.String),
            sa.Column("after", sa.String),
        ], [("ix_audit_station_id", ["station_id"], False)]),
        "cases": ([
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("kind", sa.String(12), nullable=False),
            sa.Column("station_id", sa.String(64)),
            sa.Column("station_name", sa.String(200)),
            sa.Column("county_adcode", sa.String(6)),
            sa.Column("reason", sa.String(20)),
            sa.Column("text", sa.String(500)),
            sa.Column("lon", sa.Double),
            sa.Column("lat", sa.Double),
            sa.Column("suggested_kind", sa.String(20)),
            sa.Column("amenities", sa.String(400)),
            sa.Column("reports", sa.Integer, nullable=False),
            sa.Column("state", sa.String(10), nullable=False),
            sa.Column("reply", sa.String(500)),
            sa.Column("created_at", sa.DateTime, nullable=False),
            sa.Column("updated_at", sa.DateTime, nullable=False),
            sa.Column("resolved_at", sa.DateTime),
            sa.Column("resolved_by", sa.String(254)),
        ], [("ix_cases_open", ["state", "county_adcode"], False),
            ("ux_cases_open_station_reason", ["station_id", "reason"], True)]),
        "tickets": ([
            sa.Column("code", sa.String(16), primary_key=True),
            sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id"), nullable=False),
            sa.Column("created_at", sa.DateTime, nullable=False),
        ], [("ix_tickets_case_id", ["case_id"], False)]),
        "confirmations": ([
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("station_id", sa.String(64), nullable=False),
            sa.Column("county_adcode", sa.String(6)),
            sa.Column("at", sa.DateTime, nullable=False),
        ], [("ix_confirmations_station_id", ["station_id"], False)]),
        "used_challenges": ([
            sa.Column("signature", sa.String(128), primary_key=True),
            sa.Column("at", sa.DateTime, nullable=False),
        ], []),
    }


def upgrade() -> None:
    present = set(sa.inspect(op.get_bind()).get_table_names())
    for name, (items, indexes) in _tables().items():
        if name in present:  # made by the old create-on-first-use path: keep it
            continue
        op.create_table(name, *items)
        for index, columns, unique in indexes:
            where = sa.text(_OPEN_REPORT) if index == "ux_cases_open_station_reason" else None
            op.create_index(index, name, columns, unique=unique,
                            sqlite_where=where, postgresql_where=where)


def downgrade() -> None:
    # Children before parents, so no foreign key is left pointing at a dropped table.
    for name in reversed(list(_tables())):
        op.drop_table(name)
