"""Each migration history names its head, and a database is known to be at it
without Alembic only when it truly is."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.config import Config
from alembic.script import ScriptDirectory

from locator.living import schema
from locator.storage import postgis, revisions


def _scripts_head(folder) -> str:
    cfg = Config()
    cfg.set_main_option("script_location", str(folder))
    return ScriptDirectory.from_config(cfg).get_current_head()


def test_each_history_names_the_head_its_scripts_have():
    assert _scripts_head(schema.MIGRATIONS) == schema.HEAD
    assert _scripts_head(postgis.MIGRATIONS) == postgis.HEAD


def test_at_head_only_when_the_database_is_there(tmp_path):
    eng = sa.create_engine(f"sqlite:///{tmp_path / 'living.sqlite'}")
    at = {"table": schema.VERSION_TABLE, "head": schema.HEAD}
    assert not revisions.at_head(eng, **at)  # nothing at all yet
    schema.upgrade(eng)
    assert revisions.at_head(eng, **at) and schema.current(eng) == schema.HEAD
    schema.downgrade(eng, "l0001")
    assert not revisions.at_head(eng, **at)
    schema.upgrade(eng)  # behind: the quick check must not stop the upgrade
    assert schema.current(eng) == schema.HEAD
    assert "photos" in " ".join(sa.inspect(eng).get_table_names())
