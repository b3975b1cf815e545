"""`init_db`: the whole schema on an empty database, nothing on a complete one, only additions on an old one."""

from __future__ import annotations

import pytest

from rally_assets.core import db, schema
from rally_assets.core.constants import PROTECTED_TABLES, STAGING_SCHEMA

# Columns of the real Rally app (rally-domain.md §1) that the app's code reads and writes.
REAL_APP_COLUMNS = {
    "leagues": {"id", "league_id", "league_name", "league_url"},
    "users": {"id", "email", "password_hash", "first_name", "last_name", "league_context", "phone_number", "is_admin"},
    "user_player_associations": {"user_id", "tenniscores_player_id", "is_primary"},
    "player_availability": {
        "id",
        "user_id",
        "player_id",
        "player_name",
        "series_id",
        "match_date",
        "availability_status",
        "notes",
        "updated_at",
    },
    "user_contexts": {"user_id", "active_league_id", "active_team_id", "last_updated"},
    "captain_messages": {"id", "team_id", "captain_user_id", "message", "created_at"},
}

# pg_trigger.tgtype bits (catalog/pg_trigger.h)
TRIGGER_ROW, TRIGGER_BEFORE, TRIGGER_DELETE, TRIGGER_UPDATE, TRIGGER_TRUNCATE = 1, 2, 8, 16, 32


@pytest.fixture
def empty_conn(empty_db):
    with db.connection(empty_db) as connection:
        yield connection


def _columns(conn, table: str, schema_name: str = "public") -> set[str]:
    rows = conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = %s",
        (schema_name, table),
    ).fetchall()
    return {r[0] for r in rows}


def _catalog_snapshot(conn) -> dict[str, list[tuple]]:
    """Everything init_db could change: columns, indexes, constraints, triggers, functions, table storage."""
    return {
        "columns": conn.execute(
            """SELECT table_schema, table_name, column_name, ordinal_position, data_type, character_maximum_length,
                      numeric_precision, numeric_scale, column_default, is_nullable, generation_expression
               FROM information_schema.columns WHERE table_schema IN ('public', %s) ORDER BY 1, 2, 4""",
            (STAGING_SCHEMA,),
        ).fetchall(),
        "indexes": conn.execute(
            "SELECT schemaname, tablename, indexname, indexdef FROM pg_indexes "
            "WHERE schemaname IN ('public', %s) ORDER BY 1, 2, 3",
            (STAGING_SCHEMA,),
        ).fetchall(),
        "constraints": conn.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE connamespace = 'public'::regnamespace ORDER BY 1, 2"
        ).fetchall(),
        "triggers": conn.execute(
            "SELECT tgrelid::regclass::text, tgname, tgtype, tgenabled FROM pg_trigger WHERE NOT tgisinternal ORDER BY 1, 2"
        ).fetchall(),
        "functions": conn.execute(
            "SELECT proname, prosrc, provolatile FROM pg_proc WHERE proname LIKE 'rally\\_%' ORDER BY 1"
        ).fetchall(),
        "storage": conn.execute(
            "SELECT n.nspname, c.relname, c.relfilenode FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname IN ('public', %s) AND c.relkind = 'r' ORDER BY 1, 2",
            (STAGING_SCHEMA,),
        ).fetchall(),
    }


# --- empty database ----------------------------------------------------------------------------


def test_init_db_on_empty_database_creates_every_table_with_its_columns(empty_conn):
    assert schema.init_db(empty_conn) != []
    for table, definitions in schema.TABLES.items():
        expected = {d.split()[0] for d in definitions}
        assert _columns(empty_conn, table) == expected, table
    for table, real_columns in REAL_APP_COLUMNS.items():
        assert real_columns <= _columns(empty_conn, table), table


def test_init_db_creates_the_natural_key_unique_indexes(empty_conn):
    schema.init_db(empty_conn)
    for name, target in schema.UNIQUE_INDEXES.items():
        table, keys = target.split(" ", 1)
        row = empty_conn.execute(
            "SELECT i.indrelid::regclass::text, i.indisunique, pg_get_indexdef(i.indexrelid) "
            "FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE c.relname = %s AND c.relnamespace = 'public'::regnamespace",
            (name,),
        ).fetchone()
        assert row is not None, f"unique index {name} missing"
        indexed_table, unique, definition = row
        assert indexed_table == table and unique, name
        columns = keys.split(")")[0] + ")"
        assert f"USING btree {columns}" in definition, definition
        if "WHERE" in keys:
            assert "WHERE" in definition, definition


def test_init_db_installs_a_statement_guard_trigger_on_every_protected_table(empty_conn):
    schema.init_db(empty_conn)
    for table in PROTECTED_TABLES:
        row = empty_conn.execute(
            "SELECT t.tgtype, p.proname, t.tgenabled FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid "
            "WHERE t.tgname = %s AND t.tgrelid = %s::regclass",
            (f"rally_guard_{table}", f"public.{table}"),
        ).fetchone()
        assert row is not None, f"rally_guard_{table} missing"
        tgtype, function, enabled = row
        assert function == "rally_guard_protected" and enabled == "O"
        assert tgtype & TRIGGER_BEFORE and not tgtype & TRIGGER_ROW
        assert (
            tgtype & (TRIGGER_UPDATE | TRIGGER_DELETE | TRIGGER_TRUNCATE)
            == TRIGGER_UPDATE | TRIGGER_DELETE | TRIGGER_TRUNCATE
        )


def test_init_db_creates_unlogged_staging_tables_in_their_own_schema(empty_conn):
    schema.init_db(empty_conn)
    rows = empty_conn.execute(
        "SELECT c.relname, c.relpersistence FROM pg_class c WHERE c.relkind = 'r' AND c.relnamespace = %s::regnamespace",
        (STAGING_SCHEMA,),
    ).fetchall()
    assert {name for name, _ in rows} == set(schema.STAGING_TABLES)
    assert {persistence for _, persistence in rows} == {"u"}
    for table, definitions in schema.STAGING_TABLES.items():
        assert _columns(empty_conn, table, STAGING_SCHEMA) == {d.split()[0] for d in definitions}
    assert not set(schema.STAGING_TABLES) & _public_tables(empty_conn)


def _public_tables(conn) -> set[str]:
    return {r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall()}


# --- idempotence -------------------------------------------------------------------------------


def test_second_init_db_returns_nothing_and_changes_no_catalog_entry(empty_conn):
    schema.init_db(empty_conn)
    before = _catalog_snapshot(empty_conn)
    assert schema.init_db(empty_conn) == []
    assert _catalog_snapshot(empty_conn) == before
    assert schema.missing_schema(empty_conn) == []


def test_missing_schema_lists_what_an_empty_database_lacks_without_creating_it(empty_conn):
    assert schema.missing_schema(empty_conn) != []
    assert _public_tables(empty_conn) == set()


# --- an existing, older Rally database ---------------------------------------------------------

LEGACY_DDL = """
CREATE TABLE leagues (id serial PRIMARY KEY, league_id varchar(255) UNIQUE, league_name varchar(255) NOT NULL);
CREATE TABLE users (
    id serial PRIMARY KEY, email varchar(255) UNIQUE NOT NULL, password_hash varchar(255) NOT NULL,
    first_name varchar(255), last_name varchar(255), league_context integer);
CREATE TABLE player_availability (
    id serial PRIMARY KEY, user_id integer, player_name varchar(255) NOT NULL, series_id integer NOT NULL,
    match_date timestamptz NOT NULL, availability_status integer NOT NULL DEFAULT 3);
CREATE TABLE system_settings (id serial PRIMARY KEY, key varchar(255) UNIQUE NOT NULL, value text NOT NULL);

INSERT INTO leagues (league_id, league_name) VALUES ('APTA_CHICAGO', 'APTA Chicago'), ('NSTF', 'North Shore Tennis Foundation');
INSERT INTO users (email, password_hash, first_name, last_name, league_context) VALUES
    ('ann@example.com', 'pbkdf2:sha256$a', 'Ann', 'Lee', 1),
    ('bob@example.com', 'pbkdf2:sha256$b', 'Bob', 'O''Neil', 2),
    ('cy@example.com', 'pbkdf2:sha256$c', NULL, 'Cy', NULL);
INSERT INTO player_availability (user_id, player_name, series_id, match_date, availability_status) VALUES
    (1, 'Ann Lee', 17, '2025-01-12 00:00:00+00', 1),
    (2, 'Bob O''Neil', 17, '2025-01-12 00:00:00+00', 2),
    (NULL, 'Dee Orphan', 23, '2025-01-19 00:00:00+00', 3);
INSERT INTO system_settings (key, value) VALUES ('session_version', '7');
"""
LEGACY_TABLES = ("leagues", "users", "player_availability", "system_settings")


def _legacy_rows(conn, table: str, columns: list[str]) -> list[str]:
    """The rows as text, restricted to the columns the legacy table had (new columns append to t::text)."""
    return [r[0] for r in conn.execute(f"SELECT ROW({', '.join(columns)})::text FROM {table} ORDER BY id").fetchall()]


def _ordered_columns(conn, table: str) -> list[str]:
    rows = conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = %s "
        "ORDER BY ordinal_position",
        (table,),
    ).fetchall()
    return [r[0] for r in rows]


def test_init_db_on_an_older_rally_database_keeps_every_row_and_only_adds_columns(empty_conn):
    empty_conn.execute(LEGACY_DDL)
    legacy_columns = {t: _ordered_columns(empty_conn, t) for t in LEGACY_TABLES}
    rows_before = {t: _legacy_rows(empty_conn, t, legacy_columns[t]) for t in LEGACY_TABLES}
    assert all(rows_before.values())

    assert schema.init_db(empty_conn) != []

    for table in LEGACY_TABLES:
        assert _legacy_rows(empty_conn, table, legacy_columns[table]) == rows_before[table], table
        assert _ordered_columns(empty_conn, table)[: len(legacy_columns[table])] == legacy_columns[table], table
    added = {
        "leagues": {"league_url", "created_at", "updated_at"},
        "users": {"phone_number", "is_admin", "has_temporary_password", "last_login"},
        "player_availability": {"player_id", "notes", "updated_at"},
    }
    for table, new_columns in added.items():
        assert new_columns <= _columns(empty_conn, table) - set(legacy_columns[table]), table
        assert _columns(empty_conn, table) >= {d.split()[0] for d in schema.TABLES[table]}, table
    assert empty_conn.execute("SELECT count(*) FROM system_settings").fetchone()[0] == 1
    assert schema.init_db(empty_conn) == []


def test_init_db_adds_display_name_to_a_populated_legacy_series_table(empty_conn):
    empty_conn.execute("CREATE TABLE series (id serial PRIMARY KEY, name varchar(255) NOT NULL UNIQUE)")
    empty_conn.execute("INSERT INTO series (name) VALUES ('S1'), ('Chicago 22')")
    schema.init_db(empty_conn)
    assert [r[0] for r in empty_conn.execute("SELECT name FROM series ORDER BY id")] == ["S1", "Chicago 22"]
    assert "display_name" in _columns(empty_conn, "series")
