"""Faults, concurrent app writes, concurrent imports and a lost connection, on a real PostgreSQL.

Every test starts from the real import_1 with 500 synthetic users and imports the real import_2 of
APTA_CHICAGO and NSTF through `rally import` (a subprocess, like an operator would). The figures
go into RELIABILITY.md (see conftest.py).
"""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg
import pytest

from rally_assets.core import db
from rally_assets.core.constants import PROTECTED_TABLES
from rally_assets.core.errors import DatabaseUnavailable
from rally_assets.core.parsing.league import parse_league
from rally_assets.core.publish.league import PUBLISH_LOCK, publish_league
from rally_assets.core.staging import stage_league
from rally_assets.tooling.faults import ENV_MARKER, ENV_PAUSE_AT
from rally_assets_tests.conftest import (
    IMPORT_2,
    PROJECT_ROOT,
    create_database,
    drop_database,
    landing_with,
    record_reliability,
    requires_real_data,
    table_state,
    with_dbname,
)

pytestmark = requires_real_data
PROJECT = PROJECT_ROOT
LEAGUES = ("APTA_CHICAGO", "NSTF")  # imported in this order

# What a league holds, by natural content (ids differ between databases, content must not).
CONTENT = {
    "teams": """SELECT t.team_name, c.name, s.name, t.is_active FROM teams t JOIN clubs c ON c.id = t.club_id
                JOIN series s ON s.id = t.series_id WHERE t.league_id = %(lid)s""",
    "players": """SELECT p.tenniscores_player_id, c.name, s.name, t.team_name, p.first_name, p.last_name, p.pti,
                         p.wins, p.losses, p.captain_status, p.career_wins, p.is_active
                  FROM players p JOIN clubs c ON c.id = p.club_id JOIN series s ON s.id = p.series_id
                  LEFT JOIN teams t ON t.id = p.team_id WHERE p.league_id = %(lid)s""",
    "match_scores": """SELECT m.match_date, m.home_team, m.away_team, h.team_name, a.team_name, m.home_player_1_id,
                              m.away_player_2_id, m.scores, m.winner FROM match_scores m
                       LEFT JOIN teams h ON h.id = m.home_team_id LEFT JOIN teams a ON a.id = m.away_team_id
                       WHERE m.league_id = %(lid)s""",
    "schedule": """SELECT m.match_date, m.match_time, m.home_team, m.away_team, h.team_name, m.location FROM schedule m
                   LEFT JOIN teams h ON h.id = m.home_team_id WHERE m.league_id = %(lid)s AND m.etl_row_hash IS NOT NULL""",
    "series_stats": """SELECT m.series, m.team, t.team_name, m.points, m.games_won FROM series_stats m
                       LEFT JOIN teams t ON t.id = m.team_id WHERE m.league_id = %(lid)s""",
    "player_history": """SELECT p.tenniscores_player_id, h.series, h.date, h.end_pti FROM player_history h
                         LEFT JOIN players p ON p.id = h.player_id WHERE h.league_id = %(lid)s""",
}


def league_content(conn: psycopg.Connection, league: str) -> dict[str, str]:
    lid = conn.execute("SELECT id FROM leagues WHERE league_id = %s", (league,)).fetchone()[0]
    content = {}
    for table, sql in CONTENT.items():
        rows = sorted(str(r) for r in conn.execute(sql, {"lid": lid}).fetchall())
        content[table] = f"{len(rows)}:{hashlib.md5('|'.join(rows).encode()).hexdigest()}"
    return content


def user_state(conn: psycopg.Connection) -> tuple[dict, set]:
    """User-owned tables row for row (with xmin), and the associations as a set (discovery may add some)."""
    state = table_state(conn, [t for t in PROTECTED_TABLES if t != "user_player_associations"])
    links = set(conn.execute("SELECT user_id, tenniscores_player_id FROM user_player_associations").fetchall())
    return state, links


def snapshot(url: str) -> dict:
    with db.connection(url) as conn:
        users, links = user_state(conn)
        return {"leagues": {lg: league_content(conn, lg) for lg in LEAGUES}, "users": users, "links": links}


def rally_import(
    url: str,
    landing: Path,
    home: Path,
    *extra: str,
    fault: str | None = None,
    marker: Path | None = None,
    wait: bool = True,
) -> subprocess.Popen:
    env = {**os.environ, "RALLY_DATABASE_URL": url, "DAGSTER_HOME": str(home), ENV_MARKER: str(marker or "")}
    env.pop(ENV_PAUSE_AT, None)
    if fault:
        env[ENV_PAUSE_AT] = fault
    home.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        [sys.executable, "-m", "rally_assets.cli", "import", str(landing), *extra],
        cwd=PROJECT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    if wait:
        proc.out, proc.err = proc.communicate(timeout=300)
    return proc


def kill9(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGKILL)  # the whole process group, as an OOM killer or a power cut would
    proc.communicate(timeout=30)


@pytest.fixture(scope="module")
def landing(tmp_path_factory) -> Path:
    return landing_with(tmp_path_factory.mktemp("landing"), IMPORT_2, LEAGUES)


@pytest.fixture(scope="module")
def reference(server_url, users_template, landing, tmp_path_factory) -> dict:
    """Before and after an uninterrupted import, on a copy of the same database."""
    name = create_database(server_url, template=users_template)
    url = with_dbname(server_url, name)
    try:
        before = snapshot(url)
        proc = rally_import(url, landing, tmp_path_factory.mktemp("dagster_ref"))
        assert proc.returncode == 0, proc.err
        after = snapshot(url)
    finally:
        drop_database(server_url, name)
    assert before["leagues"] != after["leagues"] and before["users"] == after["users"]
    return {"before": before, "after": after}


@pytest.fixture
def target(server_url, users_template):
    name = create_database(server_url, template=users_template)
    yield with_dbname(server_url, name)
    drop_database(server_url, name)


def assert_never_half_imported(url: str, reference: dict) -> dict:
    """Each league is exactly as before or exactly as after; user tables untouched (links only added)."""
    now = snapshot(url)
    states = {}
    for league in LEAGUES:
        if now["leagues"][league] == reference["before"]["leagues"][league]:
            states[league] = "before"
        elif now["leagues"][league] == reference["after"]["leagues"][league]:
            states[league] = "after"
        else:
            changed = [t for t in CONTENT if now["leagues"][league][t] != reference["before"]["leagues"][league][t]]
            pytest.fail(f"{league} is half-imported: {changed} differ from both before and after")
    assert now["users"] == reference["before"]["users"], "a user-owned row changed"
    lost = reference["before"]["links"] - now["links"]
    record_reliability(rows_lost=len(lost))
    assert not lost and now["links"] <= reference["after"]["links"]
    return states


KILL_POINTS = {
    "staging:stg_matches": ("during staging (COPY in progress)", {"APTA_CHICAGO": "before", "NSTF": "before"}),
    "publish:players": ("inside the publish transaction", {"APTA_CHICAGO": "before", "NSTF": "before"}),
    "publish:record": ("inside the publish, just before commit", {"APTA_CHICAGO": "before", "NSTF": "before"}),
    "publish:after_commit": ("right after the commit", {"APTA_CHICAGO": "after", "NSTF": "before"}),
    "checks": ("during the post-publish checks", {"APTA_CHICAGO": "after", "NSTF": "before"}),
    "discovery": ("during association discovery", {"APTA_CHICAGO": "after", "NSTF": "after"}),
}


@pytest.mark.parametrize("point", KILL_POINTS)
def test_kill_9_at_each_stage_leaves_each_league_before_or_after_and_a_rerun_converges(
    point, target, landing, reference, tmp_path
):
    marker = tmp_path / "paused"
    proc = rally_import(target, landing, tmp_path / "dagster", fault=point, marker=marker, wait=False)
    deadline = time.time() + 180
    while not marker.exists():
        assert proc.poll() is None, f"the import ended before reaching {point}: {proc.communicate()}"
        assert time.time() < deadline, f"checkpoint {point} never reached"
        time.sleep(0.1)
    kill9(proc)
    states = assert_never_half_imported(target, reference)
    assert states == KILL_POINTS[point][1]
    rerun = rally_import(target, landing, tmp_path / "dagster")
    assert rerun.returncode == 0, rerun.err
    converged = snapshot(target)
    assert converged["leagues"] == reference["after"]["leagues"]
    assert converged["users"] == reference["before"]["users"] and converged["links"] == reference["after"]["links"]
    record_reliability(
        faults_injected=1,
        kills=1,
        detail={
            "test": f"kill -9 at `{point}`",
            "what": KILL_POINTS[point][0],
            "outcome": f"leagues {states}; rerun converged to the uninterrupted result",
        },
    )


def test_kill_9_at_random_moments(target, landing, reference, tmp_path):
    rng = random.Random(20261121)
    outcomes = []
    for attempt in range(3):
        proc = rally_import(target, landing, tmp_path / f"dagster{attempt}", wait=False)
        time.sleep(rng.uniform(1.0, 9.0))
        if proc.poll() is None:
            kill9(proc)
        outcomes.append(assert_never_half_imported(target, reference))
        record_reliability(faults_injected=1, kills=1)
    rerun = rally_import(target, landing, tmp_path / "dagster_final")
    assert rerun.returncode == 0, rerun.err
    assert snapshot(target)["leagues"] == reference["after"]["leagues"]
    record_reliability(
        detail={
            "test": "kill -9 at 3 random moments",
            "what": "SIGKILL to the process group after 1-9 s",
            "outcome": f"league states {outcomes}; rerun converged",
        }
    )


def test_connection_dropped_mid_publish_is_a_clear_error_and_a_retry_succeeds(target):
    with db.connection(target) as conn:
        before = table_state(conn, ["players", "teams", "match_scores", *PROTECTED_TABLES])
        parsed = parse_league(IMPORT_2 / "NSTF")
        stage_league(conn, parsed, "drop-1")

        def terminate_own_backend(step: str) -> None:
            if step == "players":
                with psycopg.connect(target, autocommit=True) as admin:
                    admin.execute("SELECT pg_terminate_backend(%s)", (conn.info.backend_pid,))

        with pytest.raises(DatabaseUnavailable) as info:
            publish_league(conn, "NSTF", "drop-1", on_step=terminate_own_backend)
    message = str(info.value)
    assert "lost the database connection while publishing NSTF" in message and "nothing was committed" in message
    with db.connection(target) as conn:
        assert table_state(conn, ["players", "teams", "match_scores", *PROTECTED_TABLES]) == before
        result = publish_league(conn, "NSTF", "drop-1")  # the staged rows survived: the retry publishes them
    assert result.tables["match_scores"].inserted > 0
    record_reliability(
        faults_injected=1,
        detail={
            "test": "connection terminated mid-publish",
            "what": "pg_terminate_backend on the publishing session",
            "outcome": "DatabaseUnavailable, tables unchanged, retry published",
        },
    )


def test_server_unreachable_at_start_then_a_retry_succeeds(target, landing, tmp_path):
    unreachable = "postgresql://postgres@127.0.0.1:1/rally"
    proc = rally_import(unreachable, landing, tmp_path / "dagster")
    assert proc.returncode == 1
    assert proc.err.strip().count("\n") == 0 and "cannot connect to the database" in proc.err
    assert rally_import(target, landing, tmp_path / "dagster").returncode == 0
    record_reliability(
        faults_injected=1,
        detail={
            "test": "server unreachable at start",
            "what": "RALLY_DATABASE_URL on a closed port",
            "outcome": "one-line error, exit 1; retry on the server succeeded",
        },
    )


def test_two_imports_of_one_league_are_serialised(target, landing, reference, tmp_path):
    """A publish of NSTF waits while another holds the publish lock, then completes."""
    with psycopg.connect(target) as holder:  # a transaction holding the publish lock
        holder.execute(f"SELECT pg_advisory_xact_lock({PUBLISH_LOCK})")
        proc = rally_import(target, landing, tmp_path / "dagster", "--league", "NSTF", wait=False)
        time.sleep(12)
        with db.connection(target) as conn:
            statuses = [
                r[0]
                for r in conn.execute(
                    "SELECT status FROM rally_etl.import_runs WHERE league = 'NSTF' AND run_id NOT LIKE 'template%%'"
                )
            ]
        assert proc.poll() is None and statuses == ["staged"]  # staged, waiting for the lock
        holder.rollback()
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    # two at once: both succeed, one after the other, and the league is as one import leaves it
    procs = [rally_import(target, landing, tmp_path / f"dagster{i}", "--league", "NSTF", wait=False) for i in range(2)]
    for p in procs:
        _, err = p.communicate(timeout=180)
        assert p.returncode == 0, err
    assert snapshot(target)["leagues"]["NSTF"] == reference["after"]["leagues"]["NSTF"]
    record_reliability(
        detail={
            "test": "concurrent imports of one league",
            "what": "lock held by another session; two imports at once",
            "outcome": "second waited, both succeeded, one import's result",
        }
    )


def test_two_leagues_import_in_parallel(target, landing, reference, tmp_path):
    procs = [rally_import(target, landing, tmp_path / f"dagster{lg}", "--league", lg, wait=False) for lg in LEAGUES]
    for p in procs:
        _, err = p.communicate(timeout=180)
        assert p.returncode == 0, err
    assert snapshot(target)["leagues"] == reference["after"]["leagues"]
    record_reliability(
        detail={
            "test": "two leagues in parallel",
            "what": "APTA_CHICAGO and NSTF imports at once",
            "outcome": "both succeeded",
        }
    )


class App(threading.Thread):
    """Plays the app while imports run: availability, links, league contexts, polls, practice times.
    Each write is its own transaction, as in the app; the last value of each is remembered."""

    def __init__(self, url: str, stop: threading.Event, seed: int = 1):
        super().__init__(daemon=True)
        self.url, self.stop, self.rng = url, stop, random.Random(seed)
        self.availability, self.contexts, self.links, self.polls, self.practice = {}, {}, set(), set(), {}
        self.writes, self.error = 0, None

    def run(self) -> None:
        try:
            with db.connection(self.url) as conn:
                self._play(conn)
        except Exception as exc:  # surfaced by the test
            self.error = exc

    def _play(self, conn: psycopg.Connection) -> None:
        users = [r[0] for r in conn.execute("SELECT id FROM users ORDER BY id")]
        # users linked to one APTA and one NSTF player: either league is a valid context
        dual = conn.execute(
            """SELECT u.id, array_agg(DISTINCT p.league_id) FROM users u
               JOIN user_player_associations a ON a.user_id = u.id JOIN players p ON p.tenniscores_player_id = a.tenniscores_player_id
               GROUP BY u.id HAVING count(DISTINCT p.league_id) = 2"""
        ).fetchall()
        teams = [r[0] for r in conn.execute("SELECT id FROM teams ORDER BY id LIMIT 200")]
        free_players = [
            r[0]
            for r in conn.execute(
                """SELECT DISTINCT p.tenniscores_player_id FROM players p JOIN leagues l ON l.id = p.league_id
               WHERE l.league_id = 'NSTF' AND p.is_active AND NOT EXISTS (
                 SELECT 1 FROM user_player_associations a WHERE a.tenniscores_player_id = p.tenniscores_player_id)
               ORDER BY 1"""
            )
        ]
        while not self.stop.is_set() or self.writes < 2000:
            kind = self.rng.random()
            if kind < 0.6:
                user, day, status = self.rng.choice(users), self.rng.randrange(30), self.rng.randint(1, 3)
                row = conn.execute(
                    """INSERT INTO player_availability (user_id, player_name, series_id, match_date, availability_status, updated_at)
                       VALUES (%s, 'app write ' || %s, (SELECT min(id) FROM series),
                               timestamptz '2025-09-01 00:00+00' + make_interval(days => %s), %s, clock_timestamp())
                       ON CONFLICT (player_name, match_date, series_id)
                       DO UPDATE SET availability_status = EXCLUDED.availability_status, updated_at = clock_timestamp()
                       RETURNING id""",
                    (user, user, day, status),
                ).fetchone()
                self.availability[row[0]] = status
            elif kind < 0.7 and dual:
                user, leagues = self.rng.choice(dual)
                choice = self.rng.choice(leagues)
                conn.execute("UPDATE users SET league_context = %s WHERE id = %s", (choice, user))
                self.contexts[user] = choice
            elif kind < 0.8 and free_players:
                player = free_players.pop()
                email = f"app-{self.writes}@example.org"
                # as the app's registration does: the new user's context is their player's league
                conn.execute(
                    """INSERT INTO users (email, password_hash, first_name, last_name, league_context, is_admin)
                       SELECT %s, 'x', 'Zz', 'App', min(league_id), false FROM players WHERE tenniscores_player_id = %s""",
                    (email, player),
                )
                conn.execute(
                    "INSERT INTO user_player_associations (user_id, tenniscores_player_id) "
                    "SELECT id, %s FROM users WHERE email = %s",
                    (player, email),
                )
                self.links.add(player)
            elif kind < 0.9:
                poll = conn.execute(
                    "INSERT INTO polls (team_id, question) VALUES (%s, 'Practice?') RETURNING id",
                    (self.rng.choice(teams),),
                ).fetchone()[0]
                self.polls.add(poll)
            else:
                team = self.rng.choice(teams)
                row = conn.execute(
                    """INSERT INTO schedule (league_id, match_date, match_time, home_team, away_team, home_team_id, location)
                       SELECT league_id, '2025-10-05', '10:30', team_name || ' Practice', '', id, 'courts'
                       FROM teams WHERE id = %s RETURNING id, md5(schedule::text)""",
                    (team,),
                ).fetchone()
                self.practice[row[0]] = row[1]
            self.writes += 1


def test_app_writes_during_imports_are_all_kept(target, landing, tmp_path):
    with db.connection(target) as conn:  # 40 users playing in two leagues, so their context can change
        conn.execute(
            """INSERT INTO user_player_associations (user_id, tenniscores_player_id)
               SELECT u.id, p.tenniscores_player_id FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM users
                    WHERE id IN (SELECT a.user_id FROM user_player_associations a JOIN players q
                                 ON q.tenniscores_player_id = a.tenniscores_player_id JOIN leagues l ON l.id = q.league_id
                                 WHERE l.league_id = 'APTA_CHICAGO') LIMIT 40) u
               JOIN (SELECT DISTINCT ON (p.tenniscores_player_id) p.tenniscores_player_id, row_number() OVER (ORDER BY p.tenniscores_player_id) AS n
                     FROM players p JOIN leagues l ON l.id = p.league_id
                     WHERE l.league_id = 'NSTF' AND p.is_active AND p.tenniscores_player_id NOT IN
                           (SELECT tenniscores_player_id FROM user_player_associations)
                     ORDER BY p.tenniscores_player_id DESC) p ON p.n = u.n"""
        )
    stop = threading.Event()
    app = App(target, stop)
    app.start()
    proc = rally_import(target, landing, tmp_path / "dagster", wait=False)
    _, err = proc.communicate(timeout=300)
    stop.set()
    app.join(timeout=300)
    assert app.error is None, app.error
    assert proc.returncode == 0, err
    with db.connection(target) as conn:
        availability = dict(
            conn.execute(
                "SELECT id, availability_status FROM player_availability WHERE id = ANY(%s)", (list(app.availability),)
            ).fetchall()
        )
        contexts = dict(
            conn.execute("SELECT id, league_context FROM users WHERE id = ANY(%s)", (list(app.contexts),)).fetchall()
        )
        links = {
            r[0]
            for r in conn.execute(
                "SELECT tenniscores_player_id FROM user_player_associations WHERE tenniscores_player_id = ANY(%s)",
                (list(app.links),),
            )
        }
        polls = {r[0] for r in conn.execute("SELECT id FROM polls WHERE id = ANY(%s)", (list(app.polls),))}
        practice = dict(
            conn.execute(
                "SELECT id, md5(schedule::text) FROM schedule WHERE id = ANY(%s)", (list(app.practice),)
            ).fetchall()
        )
    lost = (
        sum(availability.get(k) != v for k, v in app.availability.items())
        + sum(contexts.get(k) != v for k, v in app.contexts.items())
        + len(app.links - links)
        + len(app.polls - polls)
        + sum(practice.get(k) != v for k, v in app.practice.items())
    )
    record_reliability(
        writes_during_imports=app.writes,
        rows_lost=lost,
        detail={
            "test": "the app writes during imports",
            "what": f"{app.writes} writes (availability, contexts, links, polls, practice times) "
            "while APTA_CHICAGO and NSTF import",
            "outcome": f"{lost} writes lost or changed",
        },
    )
    assert app.writes >= 2000
    assert lost == 0
