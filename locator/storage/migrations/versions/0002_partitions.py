"""One partition of ``stations`` per version.

A publish then loads its rows into a table without indexes, builds the indexes
once over the whole version and attaches it, which is several times cheaper
than keeping three indexes up to date row by row; pruning drops whole tables.
A partition is named ``stations_`` plus the md5 of its version's name.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

def _indexes() -> None:
    op.execute("CREATE INDEX stations_geom_idx ON stations USING gist (geom)")
    op.execute("CREATE INDEX stations_modified_idx ON stations (version, modified_at)")


def upgrade() -> None:
    op.execute("ALTER TABLE stations RENAME TO stations_flat")
    op.execute("ALTER INDEX stations_pkey RENAME TO stations_flat_pkey")
    op.execute("ALTER INDEX stations_geom_idx RENAME TO stations_flat_geom_idx")
    op.execute("ALTER INDEX stations_modified_idx RENAME TO stations_flat_modified_idx")
    # No foreign key to station_versions: the publishing transaction creates both, and
    # pruning drops the partition with the version.
    op.execute("CREATE TABLE stations (LIKE stations_flat INCLUDING DEFAULTS, "
               "PRIMARY KEY (version, id)) PARTITION BY LIST (version)")
    _indexes()
    op.execute("""
        DO $$
        DECLARE v text;
        BEGIN
            FOR v IN SELECT DISTINCT version FROM stations_flat LOOP
                EXECUTE format('CREATE TABLE %I PARTITION OF stations FOR VALUES IN (%L)',
                               'stations_' || md5(v), v);
            END LOOP;
        END $$""")
    op.execute("INSERT INTO stations SELECT * FROM stations_flat")
    op.execute("DROP TABLE stations_flat")


def downgrade() -> None:
    op.execute("CREATE TABLE stations_flat (LIKE stations INCLUDING DEFAULTS, "
               "PRIMARY KEY (version, id))")
    op.execute("INSERT INTO stations_flat SELECT * FROM stations")
    op.execute("DROP TABLE stations")
    op.execute("ALTER TABLE stations_flat RENAME TO stations")
    op.execute("ALTER INDEX stations_flat_pkey RENAME TO stations_pkey")
    op.execute("ALTER TABLE stations ADD FOREIGN KEY (version) "
               "REFERENCES station_versions (name) ON DELETE CASCADE")
    _indexes()
