"""The repairs an operator runs (`rally health`, `fix-league-contexts`, `re-associate`, `discover`,
`relink-availability`) and the snapshots an import takes, on the real import_1 plus 500 synthetic
users (the `users_db` fixture). Every test breaks something by hand, runs the repair, and checks the
database itself: what changed, and above all what did not."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys

import psycopg
import pytest

from rally_assets.cli import main
from rally_assets.core import db
from rally_assets.core.constants import ETL_TABLES, PROTECTED_TABLES
from rally_assets.core.protection.snapshots import take_snapshot
from rally_assets.core.users.contexts import fix_league_contexts
from rally_assets.core.users.health import availability_user_id_coverage
from rally_assets_tests.conftest import PROJECT_ROOT, SYNTHETIC_USERS, legacy_writes, table_state

MISSING_LEAGUE = 987654  # a deleted league: older databases hold such contexts (no foreign key then)
NOBODY = "nobody@nowhere"
REPAIRS = ("fix-league-contexts", "re-associate", "discover", "relink-availability")
PROJECT = PROJECT_ROOT


# --- running the CLI ---------------------------------------------------------------------------


class _NoStdin(io.TextIOBase):
    """Stands in for stdin: any read is a prompt, and the repairs must never prompt."""

    def readable(self) -> bool:
        return True

    def read(self, *_args):
        raise AssertionError("the CLI read stdin")

    readline = read


@pytest.fixture(autouse=True)
def no_stdin(monkeypatch):
    monkeypatch.setattr(sys, "stdin", _NoStdin())


def rally(capsys, *args: str) -> tuple[int, str, str]:
    """`rally ARGS` in-process: (exit code, stdout, stderr)."""
    capsys.readouterr()
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# --- looking at the database -------------------------------------------------------------------


def every_table(conn: psycopg.Connection) -> list[str]:
    tables = [
        r[0]
        for r in conn.execute(
            "SELECT CASE schemaname WHEN 'public' THEN tablename ELSE schemaname || '.' || tablename END "
            "FROM pg_tables WHERE schemaname IN ('public', 'rally_etl') ORDER BY 1"
        )
    ]
    assert set(ETL_TABLES) | set(PROTECTED_TABLES) | {"rally_etl.repairs", "rally_etl.snapshots"} <= set(tables)
    return tables


def db_state(url: str) -> dict:
    """Every row (with xmin) of every table, and every sequence: equal states = nothing was written."""
    with db.connection(url) as conn:
        state = table_state(conn, every_table(conn))
        state["sequences"] = conn.execute(
            "SELECT schemaname, sequencename, last_value FROM pg_sequences "
            "WHERE schemaname IN ('public', 'rally_etl') ORDER BY 1, 2"
        ).fetchall()
    return state


def rows(conn: psycopg.Connection, table: str, where: str = "true", params=()) -> list[tuple]:
    """Rows of `table` matching `where`, with xmin, so an identical list means not even rewritten."""
    return conn.execute(f"SELECT xmin::text, t::text FROM {table} t WHERE {where} ORDER BY 2", params).fetchall()


USER_TABLES = ("users", "user_contexts", "user_player_associations", "player_availability")


def rows_of_others(conn: psycopg.Connection, user_id: int) -> dict[str, list[tuple]]:
    """Every row of the user tables that does not belong to `user_id` (rows without a user included)."""
    return {
        t: rows(conn, t, f"{'id' if t == 'users' else 'user_id'} IS DISTINCT FROM %s", (user_id,)) for t in USER_TABLES
    }


def one(conn: psycopg.Connection, sql: str, params=()):
    return conn.execute(sql, params).fetchone()[0]


def player_leagues(conn: psycopg.Connection, user_id: int) -> set[int]:
    """The leagues of the user's active associated players, straight from the tables."""
    return {
        r[0]
        for r in conn.execute(
            """SELECT p.league_id FROM user_player_associations a
            JOIN players p ON p.tenniscores_player_id = a.tenniscores_player_id AND p.is_active
            WHERE a.user_id = %s""",
            (user_id,),
        )
    }


def context_of(conn: psycopg.Connection, user_id: int) -> tuple:
    """(users.league_context, user_contexts.league_id, user_contexts.team_id)."""
    return conn.execute(
        """SELECT u.league_context, uc.league_id, uc.team_id
        FROM users u LEFT JOIN user_contexts uc ON uc.user_id = u.id WHERE u.id = %s""",
        (user_id,),
    ).fetchone()


def players_of(conn: psycopg.Connection, user_id: int) -> set[str]:
    return {
        r[0]
        for r in conn.execute(
            "SELECT tenniscores_player_id FROM user_player_associations WHERE user_id = %s", (user_id,)
        )
    }


def repairs(conn: psycopg.Connection, kind: str) -> list[tuple]:
    """(user_id, league, before_value, after_value, confidence, reason) of rally_etl.repairs rows of `kind`."""
    return conn.execute(
        """SELECT user_id, league, before_value, after_value, confidence, reason
        FROM rally_etl.repairs WHERE kind = %s ORDER BY id""",
        (kind,),
    ).fetchall()


def league_code(conn: psycopg.Connection, league_id: int) -> str:
    return one(conn, "SELECT league_id FROM leagues WHERE id = %s", (league_id,))


# --- picking and making users and players ------------------------------------------------------

# A player "has a unique name" when no other player (any league, active or not) shares its last
# name: then no synthetic user, first-name variant or second candidate can get in a test's way.
_UNIQUE_NAME = """
    p.is_active AND length(btrim(p.first_name)) >= 2 AND length(btrim(p.last_name)) >= 2
    AND NOT EXISTS (SELECT 1 FROM players q WHERE lower(btrim(q.last_name)) = lower(btrim(p.last_name))
                    AND q.tenniscores_player_id <> p.tenniscores_player_id)
    AND (SELECT count(*) FROM players q WHERE q.tenniscores_player_id = p.tenniscores_player_id) = 1
"""


def synthetic_users(conn: psycopg.Connection, n: int) -> list[dict]:
    """n seeded users (one association each) whose player has a unique name, with that player."""
    found = conn.execute(
        f"""SELECT u.id, u.email, u.first_name, u.last_name, p.tenniscores_player_id, p.id, p.league_id, p.team_id
        FROM users u JOIN user_player_associations a ON a.user_id = u.id
        JOIN players p ON p.tenniscores_player_id = a.tenniscores_player_id
        WHERE u.email LIKE '%%@users.rally.example' AND {_UNIQUE_NAME}
        ORDER BY u.id LIMIT %s""",
        (n,),
    ).fetchall()
    assert len(found) == n
    keys = ("id", "email", "first", "last", "tp", "player_id", "league_id", "team_id")
    return [dict(zip(keys, r)) for r in found]


def unclaimed_players(
    conn: psycopg.Connection, n: int, *, league_id: int | None = None, first_name: str | None = None, skip: int = 0
) -> list[dict]:
    """n active players nobody claims, each with a unique name."""
    found = conn.execute(
        f"""SELECT p.tenniscores_player_id, p.first_name, p.last_name, p.league_id, p.id FROM players p
        WHERE {_UNIQUE_NAME}
          AND NOT EXISTS (SELECT 1 FROM user_player_associations a WHERE a.tenniscores_player_id = p.tenniscores_player_id)
          AND (%(league)s::integer IS NULL OR p.league_id = %(league)s)
          AND (%(first)s::text IS NULL OR lower(btrim(p.first_name)) = %(first)s)
        ORDER BY p.tenniscores_player_id OFFSET %(skip)s LIMIT %(n)s""",
        {"league": league_id, "first": first_name, "n": n, "skip": skip},
    ).fetchall()
    assert len(found) == n
    return [dict(zip(("tp", "first", "last", "league_id", "player_id"), r)) for r in found]


def new_user(conn: psycopg.Connection, email: str, first: str, last: str, league_context: int | None = None) -> int:
    return one(
        conn,
        """INSERT INTO users (email, password_hash, first_name, last_name, league_context, is_admin)
        VALUES (%s, 'test', %s, %s, %s, false) RETURNING id""",
        (email, first, last, league_context),
    )


def namesake_of(conn: psycopg.Connection, player: dict, email: str, first: str | None = None) -> int:
    """A new user, without any association, carrying the player's name (or `first` + its last name)."""
    return new_user(conn, email, first or player["first"], player["last"])


def link(conn: psycopg.Connection, user_id: int, tp: str) -> None:
    conn.execute("INSERT INTO user_player_associations (user_id, tenniscores_player_id) VALUES (%s, %s)", (user_id, tp))


def twin_player(conn: psycopg.Connection, tp: str, new_tp: str) -> None:
    """A second, active players row with the same name, league, club, series and team as `tp`."""
    conn.execute(
        """INSERT INTO players (tenniscores_player_id, first_name, last_name, league_id, club_id, series_id, team_id,
                             is_active)
        SELECT %s, first_name, last_name, league_id, club_id, series_id, team_id, true FROM players
        WHERE tenniscores_player_id = %s""",
        (new_tp, tp),
    )


def set_context(conn: psycopg.Connection, user_id: int, league_context: int | None) -> None:
    """The user's league context; a deleted league's id is written as the older databases got it."""
    with legacy_writes(conn):
        conn.execute("UPDATE users SET league_context = %s WHERE id = %s", (league_context, user_id))


def another_league(conn: psycopg.Connection, league_id: int) -> int:
    return one(conn, "SELECT min(id) FROM leagues WHERE id <> %s", (league_id,))


# --- a database where every repair has something to do -----------------------------------------


def plant_work(url: str) -> dict:
    """Break contexts (NULL and BROKEN), orphan availability rows, add a user discovery can link,
    and strand a user whose player was deactivated while a same-name active player exists."""
    with db.connection(url) as conn:
        nulled, broken, orphaned, stranded = synthetic_users(conn, 4)
        set_context(conn, nulled["id"], None)
        set_context(conn, broken["id"], MISSING_LEAGUE)
        orphan_ids = [
            r[0]
            for r in conn.execute(
                "UPDATE player_availability SET user_id = NULL WHERE user_id = %s RETURNING id", (orphaned["id"],)
            )
        ]
        (target,) = unclaimed_players(conn, 1)
        newcomer = namesake_of(conn, target, "newcomer@example.test")
        conn.execute("UPDATE players SET is_active = false WHERE tenniscores_player_id = %s", (stranded["tp"],))
        twin_player(conn, stranded["tp"], "nndz-TEST-CARRIED")
    assert len(orphan_ids) == 3
    return {
        "nulled": nulled,
        "broken": broken,
        "orphaned": orphaned,
        "orphan_ids": orphan_ids,
        "target": target,
        "newcomer": newcomer,
        "stranded": stranded,
    }


def mentions_user(out: str, conn: psycopg.Connection, user_id: int) -> bool:
    email = one(conn, "SELECT email FROM users WHERE id = %s", (user_id,))
    return email in out or re.search(rf"\buser(?:_id =)? {user_id}\b", out) is not None


# === 1. hand-broken contexts and `rally health` ================================================


def test_fix_league_contexts_repairs_null_broken_and_not_member(users_db, capsys):
    with db.connection(users_db) as conn:
        nulled, broken, stranger = synthetic_users(conn, 3)
        expected = {u["id"]: player_leagues(conn, u["id"]) for u in (nulled, broken, stranger)}
        assert all(len(leagues) == 1 for leagues in expected.values())
        set_context(conn, nulled["id"], None)
        set_context(conn, broken["id"], MISSING_LEAGUE)
        set_context(conn, stranger["id"], another_league(conn, stranger["league_id"]))
        for u in (nulled, broken, stranger):  # user_contexts is stale too: the fix must bring it along
            conn.execute(
                "UPDATE user_contexts SET league_id = %s, team_id = NULL WHERE user_id = %s",
                (another_league(conn, u["league_id"]), u["id"]),
            )
        untouched = rows(conn, "users", "id <> ALL(%s)", ([nulled["id"], broken["id"], stranger["id"]],))

    code, out, err = rally(capsys, "fix-league-contexts")

    assert (code, err) == (0, "")
    assert "3 context(s) fixed; health 99.4% -> 100.0%" in out, out
    with db.connection(users_db) as conn:
        for u in (nulled, broken, stranger):
            (league,) = expected[u["id"]]
            assert context_of(conn, u["id"]) == (league, league, u["team_id"])
            assert u["email"] in out
        fixes = {r[0]: r for r in repairs(conn, "league_context")}
        assert sorted(fixes) == sorted([nulled["id"], broken["id"], stranger["id"]])
        for u, reason, before in (
            (nulled, "NULL", None),
            (broken, "BROKEN", str(MISSING_LEAGUE)),
            (stranger, "NOT_MEMBER", str(another_league(conn, stranger["league_id"]))),
        ):
            _user_id, league, before_value, after_value, _, why = fixes[u["id"]]
            assert why.split(":")[0] == reason
            assert (before_value, after_value) == (before, str(u["league_id"]))
            assert league == league_code(conn, u["league_id"])
        assert rows(conn, "users", "id <> ALL(%s)", ([nulled["id"], broken["id"], stranger["id"]],)) == untouched

    # A second run has nothing left to do.
    code, out, _ = rally(capsys, "fix-league-contexts")
    assert code == 0 and "0 context(s) fixed; health 100.0% -> 100.0%" in out


def test_health_exits_1_below_95_percent_and_0_after_the_fix(users_db, capsys):
    assert SYNTHETIC_USERS == 500  # the percentages below are of 500 users with associations
    code, out, _ = rally(capsys, "health")
    assert code == 0
    assert "league-context health: 100.0% (all valid) - 500 valid, 0 NULL, 0 broken of 500" in out, out
    assert "availability rows with a user_id: 100.0% (1500 of 1500)" in out
    assert "orphan references: none" in out

    with db.connection(users_db) as conn:
        users = [r[0] for r in conn.execute("SELECT id FROM users ORDER BY id LIMIT 26")]
        for user_id in users[:25]:  # exactly 95%: still passing
            set_context(conn, user_id, MISSING_LEAGUE)
    code, out, _ = rally(capsys, "health")
    assert code == 0, out
    assert "95.0% (excellent) - 475 valid, 0 NULL, 25 broken of 500" in out

    with db.connection(users_db) as conn:
        set_context(conn, users[25], None)
    code, out, _ = rally(capsys, "health")
    assert code == 1, out
    assert "94.8% (excellent) - 474 valid, 1 NULL, 25 broken of 500" in out
    assert "users.league_context 25" in out  # the dangling ids are orphan references too

    assert rally(capsys, "fix-league-contexts")[0] == 0
    code, out, _ = rally(capsys, "health")
    assert code == 0, out
    assert "100.0% (all valid) - 500 valid, 0 NULL, 0 broken of 500" in out


# === 2. the one rule's ordering ================================================================

_MATCHES = """
    SELECT count(*), max(ms.match_date) FROM match_scores ms JOIN players p ON p.league_id = ms.league_id
    WHERE p.tenniscores_player_id = %(tp)s
      AND %(tp)s IN (ms.home_player_1_id, ms.home_player_2_id, ms.away_player_1_id, ms.away_player_2_id)
"""


def matches_of(conn: psycopg.Connection, tp: str) -> tuple[int, object]:
    return conn.execute(_MATCHES, {"tp": tp}).fetchone()


def player_by_matches(
    conn: psycopg.Connection, league_id: int, *, most: bool, at_least: int = 0, exclude: tuple[str, ...] = ()
) -> dict:
    """The unclaimed, uniquely named player of a league with the most (or fewest) matches there."""
    tp = one(
        conn,
        f"""WITH played AS (
                SELECT ms.league_id, slot.pid, count(*) AS n FROM match_scores ms
                CROSS JOIN LATERAL unnest(ARRAY[ms.home_player_1_id, ms.home_player_2_id,
                                                ms.away_player_1_id, ms.away_player_2_id]) AS slot(pid)
                GROUP BY 1, 2)
        SELECT p.tenniscores_player_id FROM players p
        LEFT JOIN played m ON m.pid = p.tenniscores_player_id AND m.league_id = p.league_id
        WHERE {_UNIQUE_NAME} AND p.league_id = %(league)s AND coalesce(m.n, 0) >= %(at_least)s
          AND p.tenniscores_player_id <> ALL(%(exclude)s)
          AND NOT EXISTS (SELECT 1 FROM user_player_associations a WHERE a.tenniscores_player_id = p.tenniscores_player_id)
        ORDER BY coalesce(m.n, 0) {"DESC" if most else "ASC"}, p.tenniscores_player_id LIMIT 1""",
        {"league": league_id, "at_least": at_least, "exclude": list(exclude)},
    )
    matches, last = matches_of(conn, tp)
    return {"tp": tp, "league_id": league_id, "matches": matches, "last": last}


def rule_choice(url: str, email: str, *players: dict) -> int:
    """A new user with a NULL context linked to `players`; the league fix-league-contexts gives them."""
    with db.connection(url) as conn:
        user_id = new_user(conn, email, "Rule", "Tester")
        for p in players:
            link(conn, user_id, p["tp"])
        fix_league_contexts(conn, user_id=user_id)
        return context_of(conn, user_id)[0]


APTA, CNSWPL, NSTF = 1, 2, 3  # leagues.id after importing import_1 (checked in the test)


def test_the_one_rule_prefers_a_team_then_more_matches(users_db):
    with db.connection(users_db) as conn:
        assert [league_code(conn, i) for i in (APTA, CNSWPL, NSTF)] == ["APTA_CHICAGO", "CNSWPL", "NSTF"]
        # 1. A team beats all the rest: the teamless player has more matches, later ones, a lower league id.
        teamed = player_by_matches(conn, NSTF, most=False)
        teamless = player_by_matches(conn, APTA, most=True)
        conn.execute("UPDATE players SET team_id = NULL WHERE tenniscores_player_id = %s", (teamless["tp"],))
        # 2. Both with a team: more matches beat more recent ones ...
        busy_cnswpl = player_by_matches(conn, CNSWPL, most=True)
        recent_nstf = player_by_matches(conn, NSTF, most=True)
        # 3. ... and more matches beat the lower league id.
        busy_nstf = player_by_matches(conn, NSTF, most=True, exclude=(recent_nstf["tp"],))
        quiet_apta = player_by_matches(conn, APTA, most=False, at_least=1)

    # The evidence is what each case needs for exactly one criterion to decide it.
    assert teamed["matches"] == 0 and teamless["matches"] > 0
    assert busy_cnswpl["matches"] > recent_nstf["matches"] > 0 and recent_nstf["last"] > busy_cnswpl["last"]
    assert busy_nstf["matches"] > quiet_apta["matches"] > 0 and busy_nstf["last"] > quiet_apta["last"]

    assert rule_choice(users_db, "team@example.test", teamless, teamed) == NSTF
    assert rule_choice(users_db, "matches-vs-recent@example.test", recent_nstf, busy_cnswpl) == CNSWPL
    assert rule_choice(users_db, "matches-vs-league-id@example.test", quiet_apta, busy_nstf) == NSTF


# === 3. dry runs write nothing, and say what the real run does ================================


def _contexts_fixed(conn, work) -> None:
    for key in ("nulled", "broken"):
        u = work[key]
        assert context_of(conn, u["id"])[0] == u["league_id"]


def _availability_relinked(conn, work) -> None:
    owners = conn.execute(
        "SELECT DISTINCT user_id FROM player_availability WHERE id = ANY(%s)", (work["orphan_ids"],)
    ).fetchall()
    assert owners == [(work["orphaned"]["id"],)]
    assert availability_user_id_coverage(conn)["pct"] == 100.0


def _newcomer_linked(conn, work) -> None:
    assert players_of(conn, work["newcomer"]) == {work["target"]["tp"]}
    assert context_of(conn, work["newcomer"])[0] == work["target"]["league_id"]


def _stranded_carried(conn, work) -> None:
    assert players_of(conn, work["stranded"]["id"]) == {work["stranded"]["tp"], "nndz-TEST-CARRIED"}


# command -> (what the dry run must announce, checks that the real run did it)
DRY_RUNS = {
    "fix-league-contexts": (
        lambda w: [
            f"[DRY RUN] {w['nulled']['email']}: NULL context",
            f"[DRY RUN] {w['broken']['email']}: BROKEN context {MISSING_LEAGUE}",
            "2 context(s) to fix",
        ],
        [_contexts_fixed],
    ),
    "relink-availability": (
        lambda w: (
            [f"[DRY RUN] would set availability {i} " for i in w["orphan_ids"]]
            + [f"user_id = {w['orphaned']['id']}", "3 availability row(s) to relink"]
        ),
        [_availability_relinked],
    ),
    "discover": (
        lambda w: [f"[DRY RUN] would link newcomer@example.test to {w['target']['tp']}"],
        [_newcomer_linked],
    ),
    "re-associate": (
        lambda w: [
            f"[DRY RUN] would link user {w['stranded']['id']} to nndz-TEST-CARRIED",
            f"[DRY RUN] would link newcomer@example.test to {w['target']['tp']}",
            # only the users it links get their contexts repaired (fix-league-contexts does the rest)
            "[DRY RUN] would set newcomer@example.test league context",
        ],
        [_stranded_carried, _newcomer_linked],
    ),
}


@pytest.mark.parametrize("command", REPAIRS)
def test_dry_run_leaves_the_database_identical_then_the_real_run_changes_it(users_db, capsys, command):
    work = plant_work(users_db)
    announced, checks = DRY_RUNS[command]
    before = db_state(users_db)

    code, out, err = rally(capsys, command, "--dry-run")

    assert (code, err) == (0, "")
    for line in announced(work):
        assert line in out, f"{line!r} not in\n{out}"
    assert db_state(users_db) == before

    code, out, err = rally(capsys, command)

    assert (code, err) == (0, "")
    assert "[DRY RUN]" not in out
    with db.connection(users_db) as conn:
        for check in checks:
            check(conn, work)


def _user_tables(conn) -> dict[str, dict]:
    """Per user-owned table: row key -> (user ids it concerns, row with xmin)."""
    return {
        "users": {r[0]: ({r[0]}, r[1]) for r in conn.execute("SELECT id, xmin::text || t::text FROM users t")},
        "user_contexts": {
            r[0]: ({r[0]}, r[1]) for r in conn.execute("SELECT user_id, xmin::text || t::text FROM user_contexts t")
        },
        "user_player_associations": {
            r[1]: ({r[0]}, r[2])
            for r in conn.execute(
                "SELECT user_id, tenniscores_player_id, xmin::text || t::text FROM user_player_associations t"
            )
        },
        "player_availability": {
            r[0]: ({r[1]}, r[2])
            for r in conn.execute("SELECT id, user_id, xmin::text || t::text FROM player_availability t")
        },
    }


def changed_users(before: dict, after: dict) -> set[int]:
    """Users whose rows in a user-owned table were added, removed or rewritten."""
    changed: set[int] = set()
    for table in before:
        for key in before[table].keys() | after[table].keys():
            old, new = before[table].get(key), after[table].get(key)
            if old is None or new is None or old[1] != new[1]:
                changed |= (old[0] if old else set()) | (new[0] if new else set())
    return changed - {None}


@pytest.mark.parametrize(
    "command",
    [
        "fix-league-contexts",
        "relink-availability",
        "re-associate",
        "discover",
    ],
)
def test_the_real_run_changes_only_users_the_dry_run_listed(users_db, capsys, command):
    plant_work(users_db)
    code, listed, _ = rally(capsys, command, "--dry-run")
    assert code == 0
    with db.connection(users_db) as conn:
        before = _user_tables(conn)

    assert rally(capsys, command)[0] == 0

    with db.connection(users_db) as conn:
        changed = changed_users(before, _user_tables(conn))
        assert changed, "the real run changed nothing"
        unlisted = sorted(u for u in changed if not mentions_user(listed, conn, u))
    assert unlisted == [], f"users changed but not in the dry run: {unlisted}\n{listed}"


# === 4. --specific-user touches that user only ================================================


def test_fix_league_contexts_for_one_user_leaves_the_other_alone(users_db, capsys):
    with db.connection(users_db) as conn:
        first, second = synthetic_users(conn, 2)
        set_context(conn, first["id"], None)
        set_context(conn, second["id"], MISSING_LEAGUE)
        others = rows_of_others(conn, first["id"])

    code, out, err = rally(capsys, "fix-league-contexts", "--specific-user", first["email"].upper())

    assert (code, err) == (0, "")
    assert first["email"] in out and second["email"] not in out
    assert "1 context(s) fixed" in out
    with db.connection(users_db) as conn:
        assert context_of(conn, first["id"])[0] == first["league_id"]
        assert context_of(conn, second["id"])[0] == MISSING_LEAGUE
        assert rows_of_others(conn, first["id"]) == others
        assert [r[0] for r in repairs(conn, "league_context")] == [first["id"]]


def test_relink_availability_for_one_user_leaves_the_other_alone(users_db, capsys):
    with db.connection(users_db) as conn:
        first, second = synthetic_users(conn, 2)
        mine = [
            r[0]
            for r in conn.execute(
                "UPDATE player_availability SET user_id = NULL WHERE user_id = %s RETURNING id", (first["id"],)
            )
        ]
        conn.execute("UPDATE player_availability SET user_id = NULL WHERE user_id = %s", (second["id"],))
        others = rows(conn, "player_availability", "id <> ALL(%s)", (mine,))

    code, out, err = rally(capsys, "relink-availability", "--specific-user", first["email"])

    assert (code, err) == (0, "")
    assert "3 availability row(s) relinked" in out
    with db.connection(users_db) as conn:
        assert one(conn, "SELECT array_agg(DISTINCT user_id) FROM player_availability WHERE id = ANY(%s)", (mine,)) == [
            first["id"]
        ]
        assert rows(conn, "player_availability", "id <> ALL(%s)", (mine,)) == others
        assert one(conn, "SELECT count(*) FROM player_availability WHERE user_id IS NULL") == 3  # the second's


def test_discover_for_one_user_leaves_the_other_alone(users_db, capsys):
    with db.connection(users_db) as conn:
        mine, theirs = unclaimed_players(conn, 2)
        first = namesake_of(conn, mine, "first@example.test")
        second = namesake_of(conn, theirs, "second@example.test")
        others = rows_of_others(conn, first)

    code, out, err = rally(capsys, "discover", "--specific-user", "first@example.test")

    assert (code, err) == (0, "")
    assert "1 association(s) created" in out and "second@example.test" not in out
    with db.connection(users_db) as conn:
        assert players_of(conn, first) == {mine["tp"]}
        assert players_of(conn, second) == set()
        assert rows_of_others(conn, first) == others


def test_re_associate_for_one_user_leaves_the_other_alone(users_db, capsys):
    with db.connection(users_db) as conn:
        first, second = synthetic_users(conn, 2)
        for n, u in enumerate((first, second)):
            conn.execute("UPDATE players SET is_active = false WHERE tenniscores_player_id = %s", (u["tp"],))
            twin_player(conn, u["tp"], f"nndz-TEST-CARRIED-{n}")
        others = rows_of_others(conn, first["id"])

    code, out, err = rally(capsys, "re-associate", "--specific-user", first["email"])

    assert (code, err) == (0, "")
    assert "1 carried" in out
    with db.connection(users_db) as conn:
        assert players_of(conn, first["id"]) == {first["tp"], "nndz-TEST-CARRIED-0"}
        assert rows_of_others(conn, first["id"]) == others


# === 5. an unknown user, and stdin ============================================================


def test_an_unknown_user_is_exit_code_2_and_changes_nothing(users_db, capsys):
    plant_work(users_db)
    before = db_state(users_db)
    for command in REPAIRS:
        for dry_run in ([], ["--dry-run"]):
            code, out, err = rally(capsys, command, *dry_run, "--specific-user", NOBODY)
            assert code == 2, (command, dry_run)
            assert out == ""
            lines = err.strip().splitlines()
            assert len(lines) == 1 and NOBODY in lines[0] and command in lines[0], err
    assert db_state(users_db) == before


def test_the_cli_never_reads_stdin(users_db):
    """Run as a real process whose stdin is an open pipe nobody writes to: a prompt would hang."""
    with db.connection(users_db) as conn:
        (user,) = synthetic_users(conn, 1)
        set_context(conn, user["id"], None)
    env = {**os.environ, "RALLY_DATABASE_URL": users_db}
    proc = subprocess.Popen(
        [sys.executable, "-m", "rally_assets.cli", "fix-league-contexts"],
        cwd=PROJECT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        proc.wait(timeout=60)  # stdin stays open while we wait
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail("rally fix-league-contexts did not finish: it is waiting for input")
    finally:
        proc.stdin.close()
    out, err = proc.stdout.read(), proc.stderr.read()
    proc.stdout.close()
    proc.stderr.close()
    assert proc.returncode == 0, err
    assert "1 context(s) fixed; health 99.8% -> 100.0%" in out, out


# === 6. discovery rules =======================================================================


def test_discovery_links_unambiguous_namesakes_only(users_db, capsys):
    with db.connection(users_db) as conn:
        (william,) = unclaimed_players(conn, 1, first_name="william")
        exact, twinned, shared = unclaimed_players(conn, 3)
        bill = namesake_of(conn, william, "bill@example.test", first="Bill")
        same = namesake_of(conn, exact, "exact@example.test")
        # (b) two active players with this name in one league: no link.
        twin_player(conn, twinned["tp"], "nndz-TEST-TWIN")
        ambiguous = namesake_of(conn, twinned, "ambiguous@example.test")
        # (c) the player is already another user's: no link, no error.
        (owner,) = synthetic_users(conn, 1)
        late = new_user(conn, "late@example.test", owner["first"], owner["last"])
        # (d) a user with 2 associations is not looked at; with 1 they are (control).
        apta, cnswpl, nstf = (unclaimed_players(conn, 1, league_id=i, skip=5)[0] for i in (APTA, CNSWPL, NSTF))
        apta2, nstf2 = (unclaimed_players(conn, 1, league_id=i, skip=6)[0] for i in (APTA, NSTF))
        full = namesake_of(conn, nstf, "full@example.test")
        link(conn, full, apta["tp"])
        link(conn, full, cnswpl["tp"])
        half = namesake_of(conn, nstf2, "half@example.test")
        link(conn, half, apta2["tp"])
        # (f) two users matching the same single player: neither gets it.
        rivals = [namesake_of(conn, shared, f"rival{n}@example.test") for n in (1, 2)]

    code, out, err = rally(capsys, "discover", "--limit", "100000")

    assert (code, err) == (0, "")
    with db.connection(users_db) as conn:
        assert players_of(conn, bill) == {william["tp"]}
        assert players_of(conn, same) == {exact["tp"]}
        assert players_of(conn, half) == {apta2["tp"], nstf2["tp"]}
        assert players_of(conn, ambiguous) == set()
        assert players_of(conn, late) == set()
        assert players_of(conn, owner["id"]) == {owner["tp"]}
        assert players_of(conn, full) == {apta["tp"], cnswpl["tp"]}
        assert [players_of(conn, r) for r in rivals] == [set(), set()]
        assert (
            one(conn, "SELECT count(*) FROM user_player_associations WHERE tenniscores_player_id = %s", (shared["tp"],))
            == 0
        )

        found = {r[0]: r for r in repairs(conn, "discovery")}
        for user_id, player, confidence, how in (
            (bill, william, 85, "a variant of this first name and this last name"),
            (same, exact, 90, "this first and last name"),
            (half, nstf2, 90, "this first and last name"),
        ):
            _, league, before_value, after_value, recorded_confidence, reason = found[user_id]
            code_ = league_code(conn, player["league_id"])
            assert (league, before_value, after_value, recorded_confidence) == (code_, None, player["tp"], confidence)
            assert reason == f"the only active player in {code_} with {how}"
        assert not {ambiguous, late, full, *rivals} & found.keys()
    assert f"linked bill@example.test to {william['tp']} " in out and "confidence 85" in out


def test_discovery_limit_bounds_the_users_linked(users_db, capsys):
    with db.connection(users_db) as conn:
        targets = unclaimed_players(conn, 3)
        newcomers = [namesake_of(conn, p, f"limit{n}@example.test") for n, p in enumerate(targets)]
        before = set(conn.execute("SELECT user_id, tenniscores_player_id FROM user_player_associations").fetchall())

    assert rally(capsys, "discover", "--limit", "1")[0] == 0

    with db.connection(users_db) as conn:
        after = set(conn.execute("SELECT user_id, tenniscores_player_id FROM user_player_associations").fetchall())
        assert len({user_id for user_id, _ in after - before}) == 1
        assert rally(capsys, "discover")[0] == 0  # the others were linkable all along
        assert all(players_of(conn, u) == {p["tp"]} for u, p in zip(newcomers, targets))


def test_discovery_for_one_user_still_refuses_a_player_two_users_match(users_db, capsys):
    with db.connection(users_db) as conn:
        (shared,) = unclaimed_players(conn, 1)
        first = namesake_of(conn, shared, "rival1@example.test")
        namesake_of(conn, shared, "rival2@example.test")

    assert rally(capsys, "discover", "--specific-user", "rival1@example.test")[0] == 0

    with db.connection(users_db) as conn:
        assert players_of(conn, first) == set()


# === 7. relink availability ===================================================================


def test_relink_availability_restores_user_ids_without_duplicates(users_db, capsys):
    with db.connection(users_db) as conn:
        lost, taken = synthetic_users(conn, 2)
        lost_ids = [
            r[0]
            for r in conn.execute(
                "UPDATE player_availability SET user_id = NULL WHERE user_id = %s RETURNING id", (lost["id"],)
            )
        ]
        # taken: one row lost its user_id, and the app has since written a new row for that same date.
        orphan_id, date = conn.execute(
            """UPDATE player_availability SET user_id = NULL WHERE id = (
                   SELECT min(id) FROM player_availability WHERE user_id = %s) RETURNING id, match_date""",
            (taken["id"],),
        ).fetchone()
        # (spelt with a trailing space: the app's model keeps one row per player name, date and series)
        conn.execute(
            """INSERT INTO player_availability (user_id, player_id, player_name, series_id, match_date, availability_status)
                     SELECT %s, player_id, player_name || ' ', series_id, match_date, 1 FROM player_availability
                     WHERE id = %s""",
            (taken["id"], orphan_id),
        )
        coverage = availability_user_id_coverage(conn)
        assert coverage["without_user_id"] == 4 and coverage["pct"] < 100

    code, out, err = rally(capsys, "relink-availability")

    assert (code, err) == (0, "")
    assert "3 availability row(s) relinked" in out
    with db.connection(users_db) as conn:
        assert one(
            conn, "SELECT array_agg(DISTINCT user_id) FROM player_availability WHERE id = ANY(%s)", (lost_ids,)
        ) == [lost["id"]]
        assert one(conn, "SELECT user_id FROM player_availability WHERE id = %s", (orphan_id,)) is None
        assert (
            one(
                conn,
                "SELECT count(*) FROM player_availability WHERE user_id = %s AND match_date = %s",
                (taken["id"], date),
            )
            == 1
        )
        assert sorted(int(r[3]) for r in repairs(conn, "availability_user_id")) == sorted(lost_ids)

        conn.execute("DELETE FROM player_availability WHERE id = %s", (orphan_id,))  # the stale duplicate
        assert availability_user_id_coverage(conn)["pct"] == 100.0


def test_relink_availability_gives_a_date_to_one_row_only(users_db, capsys):
    with db.connection(users_db) as conn:
        (user,) = synthetic_users(conn, 1)
        first = one(conn, "SELECT min(id) FROM player_availability WHERE user_id = %s", (user["id"],))
        conn.execute("UPDATE player_availability SET user_id = NULL WHERE user_id = %s", (user["id"],))
        conn.execute(
            """INSERT INTO player_availability (user_id, player_id, player_name, series_id, match_date, availability_status)
                     SELECT NULL, player_id, player_name || ' ', series_id, match_date, 1 FROM player_availability
                     WHERE id = %s""",
            (first,),
        )

    code, _, err = rally(capsys, "relink-availability")

    assert (code, err) == (0, "")
    with db.connection(users_db) as conn:
        assert one(conn, "SELECT count(*) FROM player_availability WHERE user_id = %s", (user["id"],)) == 3
        assert one(conn, "SELECT count(*) FROM player_availability WHERE user_id IS NULL") == 1


# === 8. snapshots and their retention =========================================================


def _counts(conn) -> dict:
    return dict(
        zip(
            ("associations", "users", "availability"),
            conn.execute(
                """SELECT (SELECT count(*) FROM user_player_associations), (SELECT count(*) FROM users),
                  (SELECT count(*) FROM player_availability)"""
            ).fetchone(),
        )
    )


def _children(conn, snapshot_id: int) -> dict[str, list]:
    return {
        t: conn.execute(f"SELECT t::text FROM {t} t WHERE snapshot_id = %s ORDER BY 1", (snapshot_id,)).fetchall()
        for t in ("rally_etl.snapshot_associations", "rally_etl.snapshot_contexts", "rally_etl.snapshot_availability")
    }


def test_snapshots_are_kept_per_run_and_pruned_per_league(users_db):
    with db.connection(users_db) as conn:
        other = take_snapshot(conn, "run-cnswpl", "CNSWPL", keep=3)["snapshot_id"]
        other_state = {t: rows(conn, t, "snapshot_id = %s", (other,)) for t in _children(conn, other)}
        other_row = rows(conn, "rally_etl.snapshots", "id = %s", (other,))
        players = unclaimed_players(conn, 5)
        taken = []
        for n, player in enumerate(players):
            # User data grows between runs, so every snapshot has its own counts.
            user_id = namesake_of(conn, player, f"snap{n}@example.test")
            for extra in range(n % 2 + 1):
                link(conn, user_id, unclaimed_players(conn, 1, skip=10 + 2 * n + extra)[0]["tp"])
            expected = _counts(conn)
            result = take_snapshot(conn, f"run-{n}", "NSTF", keep=3)
            assert {k: result[k] for k in expected} == expected
            assert result["snapshots_pruned"] == (1 if n >= 3 else 0)
            assert {t: len(v) for t, v in _children(conn, result["snapshot_id"]).items()} == {
                "rally_etl.snapshot_associations": expected["associations"],
                "rally_etl.snapshot_contexts": expected["users"],
                "rally_etl.snapshot_availability": expected["availability"],
            }
            taken.append((result["snapshot_id"], expected, _children(conn, result["snapshot_id"])))

        kept = conn.execute(
            "SELECT id, run_id, counts FROM rally_etl.snapshots WHERE league = 'NSTF' ORDER BY id"
        ).fetchall()
        assert [(r[0], r[1], r[2]) for r in kept] == [
            (sid, f"run-{n}", counts) for n, (sid, counts, _) in enumerate(taken)
        ][2:]
        for sid, _, children in taken[2:]:  # never overwritten by the later runs
            assert _children(conn, sid) == children
        for sid, _, _ in taken[:2]:  # pruned, and their rows went with them
            assert all(rows_ == [] for rows_ in _children(conn, sid).values())
        assert rows(conn, "rally_etl.snapshots", "id = %s", (other,)) == other_row
        assert {t: rows(conn, t, "snapshot_id = %s", (other,)) for t in other_state} == other_state
