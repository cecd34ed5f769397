"""Whether a database already stands at the newest migration, asked without Alembic.

Every web process opens its databases when it starts. Importing Alembic and
reading its scripts costs a tenth of a second or more, which a worker starting
on an up-to-date database (nearly every start) need not pay: each history
names its head revision beside its scripts, a test holds that name to the
scripts' own, and Alembic is loaded only when there is something to do.
"""

from __future__ import annotations

import sqlalchemy as sa


def at_head(engine: sa.Engine, *, table: str, head: str) -> bool:
    """True when the history kept in ``table`` is at ``head`` and nowhere else."""
    with engine.connect() as conn:
        if not sa.inspect(conn).has_table(table):
            return False
        got = conn.execute(sa.text(f'SELECT version_num FROM "{table}"')).scalars().all()
    return got == [head]
