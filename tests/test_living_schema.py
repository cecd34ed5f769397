"""The write path's migrations, on SQLite and PostgreSQL.

A fresh upgrade must give what the models declare, checked two ways that do not
go through the migration's own code: SQLAlchemy's inspector against the
models' metadata, and Alembic's comparison of the two. A database made by the
old create-on-first-use path is adopted with its rows; downgrade and upgrade
round-trip; ``locator db upgrade`` and the first request migrate.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from click.testing import CliRunner

from locator.cli import main as cli
from locator.living import db, schema
from locator.living.models import Base

LIVING = set(Base.metadata.tables)


def _engine(cfg) -> sa.Engine:
    return sa.create_engine(db.database_url(cfg))


def _described(eng: sa.Engine) -> dict:
    """Each living table's columns, indexes, unique sets and foreign keys, as reflected."""
    insp = sa.inspect(eng)
    out = {}
    for name in sorted(LIVING & set(insp.get_table_names())):
        out[name] = {
            "columns": {c["name"]: (c["type"].compile(eng.dialect), c["nullable"])
                        for c in insp.get_columns(name)},
            "pk": insp.get_pk_constraint(name)["constrained_columns"],
            "indexes": {(i["name"], tuple(i["column_names"]), bool(i["unique"]))
                        for i in insp.get_indexes(name)
                        # PostgreSQL lists the index behind each unique constraint too.
                        if "duplicates_constraint" not in i},
            "unique": {tuple(u["column_names"]) for u in insp.get_unique_constraints(name)},
            "fks": {(tuple(f["constrained_columns"]), f["referred_table"],
                     tuple(f["referred_columns"])) for f in insp.get_foreign_keys(name)},
        }
    return out


def _declared(eng: sa.Engine) -> dict:
    """The same description, read from the models' metadata."""
    out = {}
    for name, table in sorted(Base.metadata.tables.items()):
        out[name] = {
            "columns": {c.name: (c.type.compile(eng.dialect), c.nullable) for c in table.columns},
            "pk": [c.name for c in table.primary_key.columns],
            "indexes": {(i.name, tuple(c.name for c in i.columns), bool(i.unique))
                        for i in table.indexes},
            "unique": {tuple(c.name for c in u.columns) for u in table.constraints
                       if isinstance(u, sa.UniqueConstraint)}
            | {(c.name,) for c in table.columns if c.unique},
            "fks": {((fk.parent.name,), fk.column.table.name, (fk.column.name,))
                    for fk in table.foreign_keys},
        }
    return out


def _differences(eng: sa.Engine) -> list:
    with eng.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    # Tables of other histories (the stations' in a shared PostgreSQL database,
    # and the version tables) are not the models' business.
    return [d for d in diff if not (d[0] == "remove_table" and d[1].name not in LIVING)]


def _partial_unique_index_holds(eng: sa.Engine) -> None:
    """Two open reports of one reason on one station cannot both be cases; closed ones can."""
    row = {"kind": "report", "station_id": "S1", "reason": "locked", "reports": 1,
           "created_at": sa.func.now(), "updated_at": sa.func.now()}
    cases = Base.metadata.tables["cases"]
    with eng.begin() as conn:
        conn.execute(cases.insert().values(**row, state="resolved"))
        conn.execute(cases.insert().values(**row, state="resolved"))
        conn.execute(cases.insert().values(**row, state="open"))
    try:
        with eng.begin() as conn:
            conn.execute(cases.insert().values(**row, state="open"))
    except sa.exc.IntegrityError:
        return
    raise AssertionError("a second open case of one station and reason was accepted")


def test_a_fresh_upgrade_gives_what_the_models_declare(staff_cfg):
    eng = _engine(staff_cfg)
    assert schema.current(eng) is None
    schema.upgrade(eng)
    assert schema.current(eng) == schema.head()
    assert _described(eng) == _declared(eng)
    assert _differences(eng) == []
    _partial_unique_index_holds(eng)
    eng.dispose()


def test_a_create_all_database_is_adopted_with_its_rows(staff_cfg):
    eng = _engine(staff_cfg)
    Base.metadata.create_all(eng)  # what the service did before the migrations
    with eng.begin() as conn:
        conn.execute(sa.text("INSERT INTO unions (adcode, name, level) "
                             "VALUES ('410000', '河南省总工会', 'province')"))
        conn.execute(sa.text("INSERT INTO audit (at, actor, action, station_id) "
                             "VALUES (CURRENT_TIMESTAMP, 'a@example.org', 'edit', 'S1')"))
    before = _described(eng)
    schema.upgrade(eng)
    assert schema.current(eng) == schema.head()
    assert _described(eng) == before == _declared(eng)
    with eng.connect() as conn:
        assert conn.execute(sa.text("SELECT name FROM unions")).scalars().all() == ["河南省总工会"]
        assert conn.execute(sa.text("SELECT actor FROM audit")).scalars().all() == \
            ["a@example.org"]
    schema.upgrade(eng)  # a second start finds nothing to do
    assert schema.current(eng) == schema.head()
    eng.dispose()


def test_a_database_of_the_first_tables_only_gains_the_rest(staff_cfg):
    """The accounts commit made five tables; the reports commit added four more."""
    eng = _engine(staff_cfg)
    first = [Base.metadata.tables[n] for n in
             ("unions", "accounts", "roles", "login_attempts", "audit")]
    Base.metadata.create_all(eng, tables=first)
    with eng.begin() as conn:
        conn.execute(sa.text("INSERT INTO accounts (email, password_hash, active, created_at) "
                             "VALUES ('e@example.org', 'x', true, CURRENT_TIMESTAMP)"))
    schema.upgrade(eng)
    assert _described(eng) == _declared(eng)
    with eng.connect() as conn:
        assert conn.execute(sa.text("SELECT email FROM accounts")).scalar_one() == \
            "e@example.org"
    eng.dispose()


def test_downgrade_and_upgrade_round_trip(staff_cfg):
    eng = _engine(staff_cfg)
    schema.upgrade(eng)
    schema.downgrade(eng, "base")
    assert schema.current(eng) is None
    assert not LIVING & set(sa.inspect(eng).get_table_names())
    schema.upgrade(eng)
    assert _described(eng) == _declared(eng)
    _partial_unique_index_holds(eng)
    eng.dispose()


def test_the_two_histories_share_one_postgresql_database(staff_cfg, monkeypatch):
    """``locator db upgrade`` migrates both; the stations' version table and the
    living one stay apart, so taking one history back leaves the other alone."""
    monkeypatch.setenv("LOCATOR_DATA_DIR", staff_cfg["DATA_DIR"])
    monkeypatch.setenv("LOCATOR_DATABASE_URL", staff_cfg["DATABASE_URL"])
    result = CliRunner().invoke(cli, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert schema.head() in result.output
    eng = _engine(staff_cfg)
    assert schema.current(eng) == schema.head()
    assert _described(eng) == _declared(eng)
    if not staff_cfg["DATABASE_URL"]:
        return
    with eng.connect() as conn:
        stations_rev = conn.execute(sa.text(
            "SELECT version_num FROM locator_alembic_version")).scalar_one()
    schema.downgrade(eng, "base")
    assert not LIVING & set(sa.inspect(eng).get_table_names())
    with eng.connect() as conn:
        assert conn.execute(sa.text(
            "SELECT version_num FROM locator_alembic_version")).scalar_one() == stations_rev
    assert {"station_versions", "live_version"} <= set(sa.inspect(eng).get_table_names())
    schema.upgrade(eng)
    assert schema.current(eng) == schema.head()
    eng.dispose()


def test_the_first_use_migrates(staff_cfg):
    eng = _engine(staff_cfg)
    Base.metadata.create_all(eng)
    db.engine(staff_cfg)  # what the first request of a process does
    assert schema.current(eng) == schema.head()
    eng.dispose()
