"""A temporary closure's reopening date and a closure's reason.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE stations ADD COLUMN IF NOT EXISTS reopens_on text")
    op.execute("ALTER TABLE stations ADD COLUMN IF NOT EXISTS closed_reason text")


def downgrade() -> None:
    op.execute("ALTER TABLE stations DROP COLUMN IF EXISTS closed_reason")
    op.execute("ALTER TABLE stations DROP COLUMN IF EXISTS reopens_on")
