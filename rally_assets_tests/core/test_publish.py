"""Publishing on a real PostgreSQL: stable ids, no-op re-imports, atomicity, fidelity (foundation §5-6)."""

from __future__ import annotations

import json
import threading
import time

import psycopg
import pytest

from rally_assets.core import db
from rally_assets.core.constants import ETL_TABLES, PROTECTED_TABLES
from rally_assets.core.parsing.league import parse_league
from rally_assets.core.publish.league import PUBLISH_STEPS
from rally_assets_tests.conftest import IMPORT_1, IMPORT_2, LEAGUES, import_folder, table_state

ALL_TABLES = ETL_TABLES + PROTECTED_TABLES


class InjectedFault(RuntimeError):
    pass


@pytest.fixture
def conn1(import_1_db):
    with db.connection(import_1_db) as connection:
        yield connection


def natural_ids(conn: psycopg.Connection) -> dict[str, dict]:
    queries = {
        "leagues": "SELECT league_id, id FROM leagues",
        "clubs": "SELECT name, id FROM clubs",
        "series": "SELECT (league_id, name)::text, id FROM series",
        "teams": "SELECT (league_id, rally_etl.team_key(team_name))::text, id FROM teams",
        "players": "SELECT (tenniscores_player_id, league_id, club_id, series_id)::text, id FROM players",
    }
    return {table: dict(conn.execute(sql).fetchall()) for table, sql in queries.items()}


def add_app_rows(conn: psycopg.Connection) -> None:
    """What the app writes: a user linked to a player, availability, a poll, a practice time."""
    conn.execute(
        """INSERT INTO users (email, password_hash, first_name, last_name, league_context, is_admin)
        SELECT 'app-user@example.org', 'x', p.first_name, p.last_name, p.league_id, false FROM players p
        WHERE p.tenniscores_player_id = (SELECT min(tenniscores_player_id) FROM players WHERE team_id IS NOT NULL) LIMIT 1"""
    )
    conn.execute(
        """INSERT INTO user_player_associations (user_id, tenniscores_player_id)
        SELECT u.id, (SELECT min(tenniscores_player_id) FROM players WHERE team_id IS NOT NULL) FROM users u"""
    )
    conn.execute(
        """INSERT INTO player_availability (user_id, player_id, player_name, series_id, match_date, availability_status,
                                         updated_at)
        SELECT u.id, p.id, p.first_name || ' ' || p.last_name, p.series_id, '2025-01-13 00:00+00', 1, now()
        FROM users u JOIN players p ON p.tenniscores_player_id = (SELECT min(tenniscores_player_id) FROM players WHERE team_id IS NOT NULL) LIMIT 1"""
    )
    conn.execute(
        "INSERT INTO polls (team_id, created_by, question) SELECT min(t.id), min(u.id), 'Practice Sunday?' FROM teams t, users u"
    )
    conn.execute(
        """INSERT INTO schedule (league_id, match_date, match_time, home_team, away_team, home_team_id, location)
        SELECT t.league_id, '2025-01-12', '10:30', 'Tennaqua Practice - Series 2B', '', t.id, 'Tennaqua'
        FROM teams t ORDER BY t.id LIMIT 1"""
    )


def test_identical_reimport_changes_no_row(conn1):
    add_app_rows(conn1)
    before = table_state(conn1, ALL_TABLES)
    for league in LEAGUES:
        result = import_folder(conn1, IMPORT_1 / league, f"again-{league}")
        assert all(v == 0 for v in result.numbers().values()), (league, result)
    assert table_state(conn1, ALL_TABLES) == before  # same rows, same xmin: nothing was even rewritten


def test_next_import_keeps_every_surviving_id_and_deletes_no_reference_row(conn1):
    add_app_rows(conn1)
    protected_before = table_state(conn1, PROTECTED_TABLES)
    before = natural_ids(conn1)
    for league in LEAGUES:
        import_folder(conn1, IMPORT_2 / league, f"next-{league}")
    after = natural_ids(conn1)
    for table, ids in before.items():
        assert set(ids) <= set(after[table]), f"{table}: a row was deleted"
        assert all(after[table][key] == id_ for key, id_ in ids.items()), f"{table}: an id moved"
    assert table_state(conn1, PROTECTED_TABLES) == protected_before
    # CNSWPL changed its id scheme: the old rows stay, inactive; the new ones are active.
    old_active = conn1.execute(
        "SELECT count(*) FROM players p JOIN leagues l ON l.id = p.league_id "
        "WHERE l.league_id = 'CNSWPL' AND p.tenniscores_player_id LIKE 'nndz-%%' AND p.is_active"
    ).fetchone()[0]
    assert old_active == 0


def test_a_rehearsal_changes_nothing_and_reports_what_the_publish_then_does(conn1):
    """import_2 NSTF rehearsed (the breaker and --dry-run judge by it), then published for real."""
    from rally_assets.core.publish.league import publish_league
    from rally_assets.core.staging import stage_league

    add_app_rows(conn1)
    parsed = parse_league(IMPORT_2 / "NSTF")
    stage_league(conn1, parsed, "rehearsed-nstf")
    before = table_state(conn1, ALL_TABLES)
    rehearsal = publish_league(conn1, "NSTF", "rehearsed-nstf", rehearse=True)
    assert table_state(conn1, ALL_TABLES) == before
    assert rehearsal.xid is None and sum(rehearsal.numbers().values()) > 0
    real = publish_league(conn1, "NSTF", "rehearsed-nstf")
    assert real.numbers() == rehearsal.numbers() and real.tables == rehearsal.tables
    assert table_state(conn1, ALL_TABLES) != before


def test_a_missing_file_keeps_the_published_rows(conn1):
    """import_2 has no APTA match_history: the 345 published matches stay."""
    count = (
        "SELECT count(*) FROM match_scores m JOIN leagues l ON l.id = m.league_id WHERE l.league_id = 'APTA_CHICAGO'"
    )
    assert conn1.execute(count).fetchone()[0] == 345
    result = import_folder(conn1, IMPORT_2 / "APTA_CHICAGO", "next-apta")
    assert result.tables["match_scores"].kept
    assert conn1.execute(count).fetchone()[0] == 345


@pytest.mark.parametrize("step", PUBLISH_STEPS)
def test_an_error_inside_the_publish_leaves_every_table_as_before(conn1, step):
    add_app_rows(conn1)
    before = table_state(conn1, ALL_TABLES)

    def fail_at(name: str) -> None:
        if name == step:
            raise InjectedFault(f"fault injected before {name}")

    with pytest.raises(InjectedFault):
        import_folder(conn1, IMPORT_2 / "CNSWPL", f"fault-{step}", on_step=fail_at)
    assert table_state(conn1, ALL_TABLES) == before


def test_app_practice_times_are_never_touched(conn1):
    add_app_rows(conn1)
    practice = "SELECT t.*::text FROM schedule t WHERE etl_row_hash IS NULL"
    before = conn1.execute(practice).fetchall()
    assert len(before) == 1
    for league in LEAGUES:
        import_folder(conn1, IMPORT_2 / league, f"next-{league}")
    assert conn1.execute(practice).fetchall() == before


def _league_counts(conn, league: str) -> dict:
    return dict(
        zip(
            ("players", "players_no_team", "schedule", "schedule_no_team", "stats", "stats_no_team"),
            conn.execute(
                """SELECT (SELECT count(*) FROM players WHERE league_id = l.id),
                          (SELECT count(*) FROM players WHERE league_id = l.id AND team_id IS NULL),
                          (SELECT count(*) FROM schedule WHERE league_id = l.id AND etl_row_hash IS NOT NULL),
                          (SELECT count(*) FROM schedule WHERE league_id = l.id AND etl_row_hash IS NOT NULL
                                                         AND (home_team_id IS NULL OR away_team_id IS NULL)),
                          (SELECT count(*) FROM series_stats WHERE league_id = l.id),
                          (SELECT count(*) FROM series_stats WHERE league_id = l.id AND team_id IS NULL)
                   FROM leagues l WHERE l.league_id = %s""",
                (league,),
            ).fetchone(),
        )
    )


@pytest.mark.parametrize("league", LEAGUES)
def test_fidelity_of_import_1(conn1, league):
    """The old importer left 77 junk series, 147 real team names without a team, 51% of players
    and ~45% of schedule/series_stats rows without a team. Here: none invented, at most 1% teamless."""
    folder = IMPORT_1 / league
    parsed = parse_league(folder)
    # no invented series: every series is one the input names, after normalisation
    named = set(parsed.players["series"]) | set(parsed.teams["series"])
    series = {
        r[0]
        for r in conn1.execute(
            "SELECT s.name FROM series s JOIN leagues l ON l.id = s.league_id WHERE l.league_id = %s", (league,)
        )
    }
    assert series <= named and series
    # every real team name has a team
    names = set()
    for frame, cols in (
        (parsed.players, ["team_name"]),
        (parsed.schedule, ["home_team", "away_team"]),
        (parsed.matches, ["home_team", "away_team"]),
        (parsed.series_stats, ["team"]),
    ):
        for col in cols:
            names |= set(frame[col].dropna())
    resolved = {
        r[0]
        for r in conn1.execute(
            """SELECT n FROM unnest(%s::text[]) n WHERE EXISTS (SELECT 1 FROM teams t JOIN leagues l ON l.id = t.league_id
           WHERE l.league_id = %s AND rally_etl.team_key(t.team_name) = rally_etl.team_key(n))""",
            (sorted(names), league),
        )
    }
    assert resolved == names
    counts = _league_counts(conn1, league)
    assert counts["players_no_team"] <= 0.01 * counts["players"]
    assert counts["schedule_no_team"] <= 0.01 * counts["schedule"]
    assert counts["stats_no_team"] <= 0.01 * counts["stats"]
    # each teamless row is listed with its reason in the import report
    report = conn1.execute(
        "SELECT report FROM rally_etl.import_runs WHERE league = %s AND status = 'published' ORDER BY id DESC LIMIT 1",
        (league,),
    ).fetchone()[0]
    assert len(report["teamless"]) >= counts["players_no_team"]
    assert all(row["reason"] for row in report["teamless"])
    # every match player id present in players.json resolves to a player of the league
    ids = {r["Player ID"] for r in json.loads((folder / "players.json").read_text())}
    unresolved = conn1.execute(
        """SELECT count(*) FROM match_scores m JOIN leagues l ON l.id = m.league_id,
                  unnest(ARRAY[home_player_1_id, home_player_2_id, away_player_1_id, away_player_2_id]) pid
           WHERE l.league_id = %s AND pid = ANY(%s)
             AND NOT EXISTS (SELECT 1 FROM players p WHERE p.league_id = l.id AND p.tenniscores_player_id = pid)""",
        (league, sorted(ids)),
    ).fetchone()[0]
    assert unresolved == 0
    # series_stats points as published
    published = dict(
        conn1.execute(
            "SELECT ss.team, ss.points FROM series_stats ss JOIN leagues l ON l.id = ss.league_id WHERE l.league_id = %s",
            (league,),
        ).fetchall()
    )
    expected = dict(zip(parsed.series_stats["team"], parsed.series_stats["points"]))
    assert published == {k: int(v) for k, v in expected.items()}


def test_python_team_key_matches_the_sql_one(conn1):
    from rally_assets.core.parsing.normalize import team_key

    names = [
        r[0]
        for r in conn1.execute(
            "SELECT DISTINCT home_team FROM schedule UNION SELECT DISTINCT team FROM series_stats "
            "UNION SELECT DISTINCT team_name FROM teams"
        ).fetchall()
        if r[0]
    ]
    sql = dict(conn1.execute("SELECT n, rally_etl.team_key(n) FROM unnest(%s::text[]) n", (names,)).fetchall())
    assert {n: team_key(n) for n in names} == sql


def test_two_leagues_adding_the_same_new_clubs_publish_at_the_same_moment(fresh_db):
    """League partitions run side by side (two sensor runs, the UI and a CLI): APTA_CHICAGO and NSTF
    share 9 clubs, new to this database, and clubs.name is UNIQUE across leagues. The second publish
    waits for the first to commit, then finds those clubs; both publish and no club is doubled."""
    from rally_assets.core.publish.league import publish_league
    from rally_assets.core.staging import stage_league

    with db.connection(fresh_db) as first, db.connection(fresh_db) as second:
        for conn, league in ((first, "APTA_CHICAGO"), (second, "NSTF")):
            stage_league(conn, parse_league(IMPORT_1 / league), f"race-{league}")
        clubs_inserted, errors = threading.Event(), []

        def hold_after_clubs(step: str) -> None:
            if step == "teams":  # APTA_CHICAGO's clubs are inserted, uncommitted
                clubs_inserted.set()
                time.sleep(2)  # NSTF's publish starts meanwhile

        def publish_first() -> None:
            try:
                publish_league(first, "APTA_CHICAGO", "race-APTA_CHICAGO", on_step=hold_after_clubs)
            except Exception as exc:  # asserted below
                errors.append(exc)

        thread = threading.Thread(target=publish_first)
        thread.start()
        assert clubs_inserted.wait(60)
        publish_league(second, "NSTF", "race-NSTF")
        thread.join(60)
        assert errors == []
        published = second.execute(
            "SELECT league, status FROM rally_etl.import_runs WHERE run_id LIKE 'race-%%' ORDER BY 1"
        ).fetchall()
        assert published == [("APTA_CHICAGO", "published"), ("NSTF", "published")]
        doubled = second.execute("SELECT lower(name) FROM clubs GROUP BY 1 HAVING count(*) > 1").fetchall()
        assert doubled == []
        shared = second.execute(
            """SELECT count(DISTINCT p.club_id) FROM players p JOIN leagues l ON l.id = p.league_id
            WHERE l.league_id = 'NSTF' AND p.club_id IN (SELECT club_id FROM players q JOIN leagues m
            ON m.id = q.league_id WHERE m.league_id = 'APTA_CHICAGO')"""
        ).fetchone()[0]
        assert shared == 9  # NSTF's players point at the clubs APTA_CHICAGO's publish added
