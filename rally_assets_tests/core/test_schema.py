"""`rally init-db` as a guest in the app's schema: on an empty database the app's schema exactly as
the app defines it, plus the ETL's own schema and the additive extras; on the app's existing
database in each of its states, only those (never anything the app's writes could trip over); a
state the import cannot write into refused in one line with nothing written; a second run a no-op."""

from __future__ import annotations

import psycopg
import pytest

from rally_assets.core import db
from rally_assets.core.constants import ETL_SCHEMA, PROTECTED_TABLES
from rally_assets.core.schema import etl
from rally_assets.core.schema.init import init_db, plan_init, require_ready
from rally_assets.core.schema.profile import UnsupportedSchema, read_profile
from rally_assets.core.users.health import orphan_queries
from rally_assets_tests.conftest import APP_SCHEMA_FILES, load_app_schema

# pg_trigger.tgtype bits (catalog/pg_trigger.h)
TRIGGER_ROW, TRIGGER_BEFORE, TRIGGER_DELETE, TRIGGER_UPDATE, TRIGGER_TRUNCATE = 1, 2, 8, 16, 32


@pytest.fixture
def empty_conn(empty_db):
    with db.connection(empty_db) as connection:
        yield connection


def app_catalog(conn: psycopg.Connection) -> dict[str, set[tuple]]:
    """The app's schema (public) as the catalog describes it: tables and columns with types,
    nullability and defaults; constraints; indexes; triggers; functions and views."""
    q = lambda sql: set(conn.execute(sql).fetchall())  # noqa: E731
    return {
        "columns": q(
            """SELECT table_name, column_name, data_type, character_maximum_length, numeric_precision, numeric_scale,
                      is_nullable, column_default, generation_expression
               FROM information_schema.columns WHERE table_schema = 'public'"""
        ),
        "constraints": q(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE connamespace = 'public'::regnamespace"
        ),
        "indexes": q("SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'"),
        "triggers": q(
            "SELECT tgrelid::regclass::text, tgname, tgtype FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE NOT tgisinternal AND c.relnamespace = 'public'::regnamespace"
        ),
        "routines": q("SELECT proname, prosrc FROM pg_proc WHERE pronamespace = 'public'::regnamespace"),
        "views": q("SELECT viewname, definition FROM pg_views WHERE schemaname = 'public'"),
    }


def difference(after: dict[str, set], before: dict[str, set]) -> dict[str, set]:
    return {k: after[k] - before[k] for k in after if after[k] - before[k]} | {
        f"{k} removed": before[k] - after[k] for k in after if before[k] - after[k]
    }


def extras_as_catalog(conn, plan) -> dict[str, set]:
    """What the listed extras add to the app's catalog, measured by running them on a copy."""
    before = app_catalog(conn)
    with conn.transaction():
        for stmt in plan.etl_schema + plan.app_extras:
            conn.execute(stmt)
        added = difference(app_catalog(conn), before)
        raise psycopg.Rollback()
    return added


# --- an empty database ----------------------------------------------------------------------------


def test_an_empty_database_gets_the_apps_current_schema_plus_exactly_the_listed_extras(server_url, empty_conn):
    """Catalog comparison: init-db on an empty database == the app's model loaded as the app defines it
    + the extras `init-db --dry-run` lists on such an existing database (the same list both ways)."""
    from rally_assets_tests.conftest import cloned_database

    plan = init_db(empty_conn)
    assert plan.creates_app_schema and plan.app_extras and plan.etl_schema
    created = app_catalog(empty_conn)
    with pytest.MonkeyPatch.context() as mp, cloned_database(server_url, None, mp) as url:
        with db.connection(url) as app_only:
            load_app_schema(app_only, APP_SCHEMA_FILES["app_models"])
            defined = app_catalog(app_only)
            listed = plan_init(app_only)  # what --dry-run lists on the app's existing database
            assert listed.app_extras == plan.app_extras
            expected_extras = extras_as_catalog(app_only, listed)
    assert difference(created, defined) == expected_extras
    assert set(expected_extras) <= {"columns", "indexes", "triggers"}  # additive only: nothing removed or changed
    added_columns = expected_extras["columns"]
    assert {(t, c) for t, c, *_ in added_columns} == {
        (t, etl.ROW_HASH_COLUMN) for t in ("match_scores", "schedule", "series_stats", "player_history")
    }
    assert all(row[6] == "YES" and row[7] is None for row in added_columns)  # nullable, no default
    assert not any(" UNIQUE " in definition for _, _, definition in expected_extras["indexes"])


def test_the_etl_keeps_its_own_things_in_its_own_schema(empty_conn):
    init_db(empty_conn)
    rows = empty_conn.execute(
        "SELECT c.relname, c.relpersistence FROM pg_class c WHERE c.relkind = 'r' AND c.relnamespace = %s::regnamespace",
        (ETL_SCHEMA,),
    ).fetchall()
    assert {name for name, _ in rows} == set(etl.ETL_TABLES) | set(etl.STAGING_TABLES)
    assert {name for name, persistence in rows if persistence == "u"} == set(etl.STAGING_TABLES)
    functions = {
        r[0]
        for r in empty_conn.execute("SELECT proname FROM pg_proc WHERE pronamespace = %s::regnamespace", (ETL_SCHEMA,))
    }
    assert functions == set(etl.ETL_FUNCTIONS)
    public = {r[0] for r in empty_conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
    assert not any(t.startswith(("etl_", "stg_", "rally")) for t in public)


def test_every_protected_table_gets_a_statement_guard_trigger(empty_conn):
    init_db(empty_conn)
    for table in PROTECTED_TABLES:
        row = empty_conn.execute(
            "SELECT t.tgtype, p.proname, t.tgenabled FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid "
            "WHERE t.tgname = %s AND t.tgrelid = %s::regclass",
            (f"rally_guard_{table}", f"public.{table}"),
        ).fetchone()
        assert row is not None, f"rally_guard_{table} missing"
        tgtype, function, enabled = row
        assert function == "guard_protected" and enabled == "O"
        assert tgtype & TRIGGER_BEFORE and not tgtype & TRIGGER_ROW
        assert tgtype & (TRIGGER_UPDATE | TRIGGER_DELETE | TRIGGER_TRUNCATE) == (
            TRIGGER_UPDATE | TRIGGER_DELETE | TRIGGER_TRUNCATE
        )


def test_the_orphan_check_of_practice_rows_can_read_them_by_their_partial_index(empty_conn):
    # A partial index serves only a query whose WHERE says what its predicate says: if the two
    # spellings of "practice row" drift apart, the check scans every league's schedule again.
    init_db(empty_conn)
    query = orphan_queries(read_profile(empty_conn))["practice_times.team_id"]
    with empty_conn.transaction():
        empty_conn.execute("SET LOCAL enable_seqscan = off")  # on an empty table a scan would win anyway
        plan = "\n".join(r[0] for r in empty_conn.execute(f"EXPLAIN {query}").fetchall())
    assert "rally_etl_schedule_practice" in plan and "Seq Scan on schedule" not in plan


# --- the app's existing database, in each of its states ----------------------------------------


@pytest.mark.parametrize("state", sorted(APP_SCHEMA_FILES))
def test_on_the_apps_database_init_db_adds_only_what_cannot_trip_the_app_and_twice_is_a_no_op(empty_conn, state):
    load_app_schema(empty_conn, APP_SCHEMA_FILES[state])
    before = app_catalog(empty_conn)
    listed = plan_init(empty_conn)
    assert not listed.creates_app_schema and listed.app_extras
    assert app_catalog(empty_conn) == before  # the dry run wrote nothing
    done = init_db(empty_conn)
    assert done.app_extras == listed.app_extras
    added = difference(app_catalog(empty_conn), before)
    assert set(added) <= {"columns", "indexes", "triggers"}  # nothing removed, no constraint, no table
    assert all(row[6] == "YES" and row[7] is None and row[8] is None for row in added.get("columns", ()))
    assert not any("UNIQUE" in definition for _, _, definition in added.get("indexes", ()))
    after_first = app_catalog(empty_conn)
    assert init_db(empty_conn).empty and plan_init(empty_conn).empty
    assert app_catalog(empty_conn) == after_first
    assert require_ready(empty_conn).missing() == []


def test_a_state_the_import_cannot_write_into_is_refused_in_one_line_with_nothing_written(empty_conn):
    empty_conn.execute(
        """CREATE TABLE leagues (id serial PRIMARY KEY, league_id varchar(255), league_name varchar(255));
        CREATE TABLE users (id serial PRIMARY KEY, email varchar(255), first_name text, last_name text)"""
    )
    before = app_catalog(empty_conn)
    with pytest.raises(UnsupportedSchema) as refused:
        init_db(empty_conn)
    message = str(refused.value)
    assert "\n" not in message and "table players" in message and "users.league_context" in message
    assert app_catalog(empty_conn) == before
    assert empty_conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (ETL_SCHEMA,)).fetchone() is None


def test_commands_on_a_database_without_the_etl_schema_say_what_to_run(empty_conn):
    with pytest.raises(Exception, match=r"rally init-db") as none:
        require_ready(empty_conn)
    assert "\n" not in str(none.value)
    load_app_schema(empty_conn, APP_SCHEMA_FILES["app_models"])
    with pytest.raises(Exception, match=r"ETL's schema .*rally init-db") as no_etl:
        require_ready(empty_conn)
    assert "\n" not in str(no_etl.value)
