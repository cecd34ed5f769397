"""Alembic environment of the write path's tables.

:func:`locator.living.schema.upgrade` hands over an open connection in
``config.attributes["connection"]``. The history is kept in its own version
table, ``living_alembic_version``, beside the stations' ``locator_alembic_version``,
so that the two histories never meet when both live in one PostgreSQL database.
"""

from __future__ import annotations

from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=None,
                  version_table="living_alembic_version",
                  # SQLite cannot alter most of a table in place; batch mode copies it.
                  render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
