"""Alembic migrations of the write path's tables (see :mod:`locator.living.schema`)."""
