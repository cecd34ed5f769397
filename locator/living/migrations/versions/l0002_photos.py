"""Reporters' own words (``ticket_texts``) and photos on reports (``photos``).

A database that ran the create-on-first-use path after these models existed
already has them; they are kept as they are, with their rows.

Revision ID: l0002
Revises: l0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "l0002"
down_revision = "l0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    present = set(sa.inspect(op.get_bind()).get_table_names())
    if "ticket_texts" not in present:
        op.create_table(
            "ticket_texts",
            sa.Column("code", sa.String(16), sa.ForeignKey("tickets.code"), primary_key=True),
            sa.Column("text", sa.String(500), nullable=False))
    if "photos" not in present:
        op.create_table(
            "photos",
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id"), nullable=False),
            sa.Column("content_type", sa.String(20), nullable=False),
            sa.Column("width", sa.Integer, nullable=False),
            sa.Column("height", sa.Integer, nullable=False),
            sa.Column("size", sa.Integer, nullable=False),
            sa.Column("sha256", sa.String(64), nullable=False),
            sa.Column("data", sa.LargeBinary, nullable=False),
            sa.Column("created_at", sa.DateTime, nullable=False))
        op.create_index("ix_photos_case_id", "photos", ["case_id"])


def downgrade() -> None:
    op.drop_table("photos")
    op.drop_table("ticket_texts")
