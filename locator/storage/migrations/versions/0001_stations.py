"""Stations, versions and the live pointer.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.execute("""
        CREATE TABLE station_versions (
            name      text PRIMARY KEY,
            created   timestamptz NOT NULL DEFAULT now(),
            stations  integer NOT NULL,
            meta      jsonb NOT NULL DEFAULT '{}'::jsonb,
            -- Set in the publishing transaction once every row is in.
            complete  boolean NOT NULL DEFAULT false
        )""")
    op.execute("""
        CREATE TABLE live_version (
            one   boolean PRIMARY KEY DEFAULT true CHECK (one),
            name  text NOT NULL REFERENCES station_versions (name)
        )""")
    op.execute("""
        CREATE TABLE stations (
            version        text NOT NULL REFERENCES station_versions (name) ON DELETE CASCADE,
            id             text NOT NULL,
            kind           text NOT NULL,
            name           text NOT NULL,
            address        text,
            county_adcode  text,
            county         text,
            city           text,
            opening_hours  text,
            amenities      text,
            phone          text,
            operator       text,
            access         text,
            status         text,
            verified_at    text,
            source         text,
            demo           boolean NOT NULL DEFAULT false,
            approximate    boolean NOT NULL DEFAULT false,
            content_hash   bigint NOT NULL,
            modified_at    timestamptz NOT NULL,
            geom           geometry(Point, 4326) NOT NULL,
            PRIMARY KEY (version, id)
        )""")
    op.execute("CREATE INDEX stations_geom_idx ON stations USING gist (geom)")
    op.execute("CREATE INDEX stations_modified_idx ON stations (version, modified_at)")


def downgrade() -> None:
    op.execute("DROP TABLE stations")
    op.execute("DROP TABLE live_version")
    op.execute("DROP TABLE station_versions")
