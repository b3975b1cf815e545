"""The protected-table guard: the Python check refuses writes before they are sent, the database trigger
refuses them inside an armed (publishing) transaction whatever code issues them."""

from __future__ import annotations

import re

import psycopg
import pytest
from psycopg.pq import TransactionStatus

from rally_assets.core import db
from rally_assets.core.constants import ETL_TABLES, PROTECTED_TABLES
from rally_assets.core.errors import ProtectedTableWriteError
from rally_assets.core.protection import guard
from rally_assets_tests.conftest import table_state

# One harmless assignment per protected table, so UPDATE statements are valid SQL that hits the seeded row.
UPDATE_SET = {
    "users": "first_name = 'Changed'",
    "user_player_associations": "created_at = now()",
    "player_availability": "availability_status = 2",
    "user_contexts": "team_id = NULL",
    "polls": "question = 'Changed?'",
    "poll_choices": "choice_text = 'Changed'",
    "poll_responses": "responded_at = now()",
    "captain_messages": "message = 'Changed'",
}
assert set(UPDATE_SET) == set(PROTECTED_TABLES)

SEED = """
INSERT INTO leagues (league_id, league_name) VALUES ('NSTF', 'North Shore Tennis Foundation');
INSERT INTO clubs (name) VALUES ('Tennaqua');
INSERT INTO series (name, league_id) SELECT 'Series 2B', id FROM leagues;
INSERT INTO teams (club_id, series_id, league_id, team_name, is_active)
    SELECT c.id, s.id, s.league_id, 'Tennaqua S2B', true FROM clubs c, series s;
INSERT INTO users (email, password_hash, first_name, last_name, league_context, is_admin)
    SELECT 'ann@example.com', 'hash', 'Ann', 'Lee', id, false FROM leagues;
INSERT INTO players (tenniscores_player_id, first_name, last_name, league_id, club_id, series_id, team_id, is_active)
    SELECT 'nndz-ann', 'Ann', 'Lee', t.league_id, t.club_id, t.series_id, t.id, true FROM teams t;
INSERT INTO user_player_associations (user_id, tenniscores_player_id) SELECT id, 'nndz-ann' FROM users;
INSERT INTO player_availability (user_id, player_name, series_id, match_date, availability_status, updated_at)
    SELECT u.id, 'Ann Lee', s.id, '2025-01-12 00:00:00+00', 1, now() FROM users u, series s;
INSERT INTO user_contexts (user_id, league_id, team_id) SELECT u.id, t.league_id, t.id FROM users u, teams t;
INSERT INTO polls (team_id, created_by, question) SELECT t.id, u.id, 'Practice Sunday?' FROM teams t, users u;
INSERT INTO poll_choices (poll_id, choice_text) SELECT id, 'Yes' FROM polls;
INSERT INTO poll_responses (poll_id, choice_id, player_id) SELECT c.poll_id, c.id, p.id FROM poll_choices c, players p;
INSERT INTO captain_messages (team_id, captain_user_id, message) SELECT t.id, u.id, 'Bring balls' FROM teams t, users u;
"""


@pytest.fixture
def seeded(conn) -> psycopg.Connection:
    conn.execute(SEED)
    counts = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in PROTECTED_TABLES}
    assert counts == {t: 1 for t in PROTECTED_TABLES}
    return conn


def _spellings(table: str) -> list[str]:
    """Every way an import could write to `table`: operations, schema-qualified, quoted, any case."""
    return [
        f"DELETE FROM {table}",
        f"delete from {table} where id = 1",
        f"DELETE FROM public.{table}",
        f'DELETE FROM "{table}"',
        f'Delete From "public"."{table}"',
        f"DELETE FROM {table.upper()}",
        f"WITH gone AS (DELETE FROM {table} RETURNING 1) SELECT count(*) FROM gone",
        f"TRUNCATE {table}",
        f"truncate {table}",
        f"TRUNCATE TABLE {table}",
        f"truncate table public.{table} CASCADE",
        f'TRUNCATE ONLY "{table}"',
        f"TRUNCATE players, {table}",
        f"UPDATE {table} SET {UPDATE_SET[table]}",
        f"update public.{table} set {UPDATE_SET[table]}",
        f'UPDATE "{table}" SET {UPDATE_SET[table]}',
        f"UPDATE ONLY {table.upper()} SET {UPDATE_SET[table]}",
        f"UPDATE\n    {table}\nSET {UPDATE_SET[table]}",
    ]


def _names(message: str, table: str) -> bool:
    return re.search(rf"\b{table}\b", message) is not None


# --- the Python check --------------------------------------------------------------------------


@pytest.mark.parametrize("table", PROTECTED_TABLES)
def test_check_statement_refuses_every_write_spelling_on_a_protected_table(table):
    for sql in _spellings(table):
        with pytest.raises(ProtectedTableWriteError) as refused:
            guard.check_statement(sql)
        assert _names(str(refused.value), table), (sql, str(refused.value))


@pytest.mark.parametrize(
    "sql",
    [
        "DELETE FROM match_scores WHERE league_id = 1 AND etl_row_hash = ANY(%(gone)s)",
        "DELETE FROM schedule WHERE league_id = 1 AND etl_row_hash IS NOT NULL",
        "UPDATE players SET is_active = false WHERE league_id = 1",
        "UPDATE public.teams SET display_name = 'x'",
        "TRUNCATE rally_etl.stg_players",
        "INSERT INTO users (email, password_hash, is_admin) VALUES ('new@example.com', 'hash', false)",
        "INSERT INTO leagues (league_id, league_name) VALUES ('X', 'X') ON CONFLICT (league_id) DO UPDATE SET league_name = 'X'",
        "SELECT u.id FROM users u JOIN user_player_associations a ON a.user_id = u.id",
        "DELETE FROM user_player_associations_backup",
    ],
)
def test_check_statement_lets_etl_statements_through(sql):
    guard.check_statement(sql)  # raises on failure


def test_check_statement_lets_every_write_to_every_etl_table_through():
    for table in ETL_TABLES:
        for sql in (f"DELETE FROM {table} WHERE false", f"UPDATE {table} SET id = id WHERE false", f"TRUNCATE {table}"):
            guard.check_statement(sql)


@pytest.fixture
def tx_conn(fresh_db, seeded) -> psycopg.Connection:
    """A non-autocommit connection: any statement sent to the server would open a transaction on it."""
    with db.connect(fresh_db, autocommit=False) as connection:
        yield connection


@pytest.mark.parametrize("table", PROTECTED_TABLES)
def test_guarded_execute_refuses_before_the_statement_reaches_the_server(seeded, tx_conn, table):
    before = table_state(seeded, PROTECTED_TABLES)
    # Each of these would succeed on the server (TRUNCATE needs CASCADE past the foreign keys).
    for sql in (f"DELETE FROM {table}", f"TRUNCATE {table} CASCADE", f"UPDATE {table} SET {UPDATE_SET[table]}"):
        with pytest.raises(ProtectedTableWriteError):
            guard.guarded_execute(tx_conn, sql)
        assert tx_conn.info.transaction_status == TransactionStatus.IDLE, f"{sql!r} was sent to the server"
    tx_conn.commit()
    assert table_state(seeded, PROTECTED_TABLES) == before


def test_guarded_execute_runs_etl_statements(seeded):
    guard.guarded_execute(seeded, "UPDATE leagues SET league_url = %s", ("https://nstf.org/",))
    assert seeded.execute("SELECT league_url FROM leagues").fetchone()[0] == "https://nstf.org/"


@pytest.mark.parametrize(
    "sql",
    [
        "TRUNCATE teams CASCADE",
        "INSERT INTO users (email, password_hash) VALUES ('a@b', 'x') ON CONFLICT (email) DO UPDATE SET password_hash = 'y'",
        "MERGE INTO users u USING leagues l ON u.league_context = l.id WHEN MATCHED THEN DELETE",
    ],
)
def test_check_statement_refuses_indirect_writes_to_protected_tables(sql):
    with pytest.raises(ProtectedTableWriteError):
        guard.check_statement(sql)


# --- the database trigger ----------------------------------------------------------------------


def _armed(conn: psycopg.Connection, sql: str, *, context_repair: bool = False) -> None:
    """Run `sql` directly (no Python guard) in a transaction armed as the publish arms it."""
    with conn.transaction():
        guard.arm_database_guard(conn)
        if context_repair:
            conn.execute("SELECT set_config('rally.context_repair', 'on', true)")
        conn.execute(sql)


@pytest.mark.parametrize("table", PROTECTED_TABLES)
def test_armed_transaction_refuses_raw_writes_to_every_protected_table(seeded, table):
    before = table_state(seeded, PROTECTED_TABLES)
    # Plain TRUNCATE of a referenced table is refused by PostgreSQL's FK check before any trigger; CASCADE is the
    # form that would really wipe rows, so that is the one the trigger must stop.
    for sql in (f"DELETE FROM {table}", f"TRUNCATE {table} CASCADE", f"UPDATE {table} SET {UPDATE_SET[table]}"):
        with pytest.raises(psycopg.errors.InsufficientPrivilege) as refused:
            _armed(seeded, sql)
        message = str(refused.value)
        assert "rally import guard" in message
        if not sql.startswith("TRUNCATE"):  # a cascade may name whichever protected table it reaches first
            assert _names(message, table), message
        assert table_state(seeded, PROTECTED_TABLES) == before


def test_armed_transaction_refuses_a_cascade_from_an_etl_table_into_protected_ones(seeded):
    before = table_state(seeded, (*PROTECTED_TABLES, "teams"))
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        _armed(seeded, "TRUNCATE teams CASCADE")
    assert table_state(seeded, (*PROTECTED_TABLES, "teams")) == before


@pytest.mark.parametrize("table", PROTECTED_TABLES)
def test_app_writes_outside_an_armed_transaction_succeed(seeded, table):
    with seeded.transaction():  # an earlier publish: its arming must end with its transaction
        guard.arm_database_guard(seeded)
    before = table_state(seeded, [table])
    updated = seeded.execute(f"UPDATE {table} SET {UPDATE_SET[table]}")
    assert updated.rowcount == 1
    with seeded.transaction():
        seeded.execute(f"UPDATE {table} SET {UPDATE_SET[table]}")
    assert table_state(seeded, [table]) != before


def test_context_repair_may_update_users_but_never_delete_them(seeded):
    _armed(seeded, "UPDATE users SET league_context = NULL", context_repair=True)
    assert seeded.execute("SELECT league_context FROM users").fetchall() == [(None,)]

    before = table_state(seeded, PROTECTED_TABLES)
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        _armed(seeded, "DELETE FROM users", context_repair=True)
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        _armed(seeded, f"UPDATE player_availability SET {UPDATE_SET['player_availability']}", context_repair=True)
    assert table_state(seeded, PROTECTED_TABLES) == before
