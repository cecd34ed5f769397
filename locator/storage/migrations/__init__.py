"""Alembic migrations of the PostGIS station store (applied by ``locator db upgrade``)."""
