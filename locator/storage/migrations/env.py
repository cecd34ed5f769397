"""Alembic environment: runs migrations on the connection the caller hands over.

:func:`locator.storage.postgis.upgrade` puts an open SQLAlchemy connection in
``config.attributes["connection"]``; nothing here reads a URL or an ini file.
"""

from __future__ import annotations

from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=None,
                  version_table="locator_alembic_version")
with context.begin_transaction():
    context.run_migrations()
