"""Served snapshots kept in the database, for hosts that have not built one.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Parts go first and the index row last, in one transaction: a snapshot is
    # listed only once all of it is there. Dropping a version drops its snapshot.
    op.execute("""
        CREATE TABLE IF NOT EXISTS snapshot_parts (
            version text NOT NULL REFERENCES station_versions (name) ON DELETE CASCADE,
            format integer NOT NULL,
            file text NOT NULL,
            part integer NOT NULL,
            size bigint NOT NULL,
            data bytea NOT NULL,
            PRIMARY KEY (version, format, file, part))""")
    # Already compressed: TOAST compressing it again would only cost time.
    op.execute("ALTER TABLE snapshot_parts ALTER COLUMN data SET STORAGE EXTERNAL")
    op.execute("""
        CREATE TABLE IF NOT EXISTS snapshot_shared (
            version text NOT NULL REFERENCES station_versions (name) ON DELETE CASCADE,
            format integer NOT NULL,
            files jsonb NOT NULL,
            meta jsonb NOT NULL,
            created timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (version, format))""")


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS snapshot_shared")
    op.execute("DROP TABLE IF EXISTS snapshot_parts")
