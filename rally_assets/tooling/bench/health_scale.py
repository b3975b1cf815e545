"""100k users on the largest scale's database: the health checks, the re-import of one league with
those users, and the pieces of an import that read every user (each capped)."""

from __future__ import annotations

import shutil
import statistics
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path

import psycopg

from rally_assets.core.policy import DISCOVERY_LIMIT
from rally_assets.tooling.bench.common import _now, _round
from rally_assets.tooling.bench.real_import import import_landing


def _top_up_players(conn: psycopg.Connection, needed: int) -> int:
    """Add active players (copies of existing ones, new ids) until `needed` are unclaimed; returns how many."""
    have = conn.execute(
        """SELECT count(DISTINCT tenniscores_player_id) FROM players p WHERE p.is_active AND NOT EXISTS (
               SELECT 1 FROM user_player_associations a WHERE a.tenniscores_player_id = p.tenniscores_player_id)"""
    ).fetchone()[0]
    missing = needed - have
    if missing <= 0:
        return 0
    base = conn.execute("SELECT count(DISTINCT tenniscores_player_id) FROM players WHERE is_active").fetchone()[0]
    copies = -(-missing // max(base, 1))
    with conn.transaction():
        # The copies get a league of their own: a later import of a real league must not see them as
        # its players gone missing (the churn breaker would stop it).
        conn.execute(
            "INSERT INTO leagues (league_id, league_name) VALUES ('BENCH_USERS', 'bench: players for the users') "
            "ON CONFLICT (league_id) DO NOTHING"
        )
        return conn.execute(
            """INSERT INTO players (tenniscores_player_id, first_name, last_name, league_id, club_id, series_id, team_id,
                                    pti, wins, losses, win_percentage, captain_status, is_active)
            SELECT p.tenniscores_player_id || '-u' || k, p.first_name, p.last_name,
                   (SELECT id FROM leagues WHERE league_id = 'BENCH_USERS'), p.club_id, p.series_id,
                   p.team_id, p.pti, p.wins, p.losses, p.win_percentage, p.captain_status, true
            FROM (SELECT DISTINCT ON (tenniscores_player_id) * FROM players WHERE is_active
                  ORDER BY tenniscores_player_id, id) p
            CROSS JOIN generate_series(1, %s) AS k
            ORDER BY k, p.id LIMIT %s""",
            (copies, missing),
        ).rowcount


def _capped(conn: psycopg.Connection, seconds: float, fn: Callable[[], object]) -> tuple[float | None, object]:
    """(wall time, result) of fn(), or (None, None) when PostgreSQL cancels it after `seconds`."""
    conn.execute(f"SET statement_timeout = '{int(seconds * 1000)}ms'")
    try:
        t = _now()
        result = fn()
        return _now() - t, result
    except psycopg.errors.QueryCanceled:
        return None, None
    finally:
        conn.execute("RESET statement_timeout")


def health_at_scale(url: str, n_users: int, repeats: int = 3, cap_s: float = 60.0, reimport: str | None = None) -> dict:
    """Seed `n_users` users (set-based), then time the health checks, the re-import of one league
    (`reimport`, a league folder) with those users, and the post-import pieces that read every user
    (league contexts, discovery, one snapshot); a piece slower than `cap_s` is cancelled."""
    from rally_assets.core import db

    with db.connection(url) as conn:
        seeding = _seed(conn, n_users)
        totals, median_run = _time_health_checks(conn, repeats)
        lid, league = conn.execute("SELECT id, league_id FROM leagues ORDER BY id LIMIT 1").fetchone()
        reimported = _reimport_one_league(url, reimport, cap_s) if reimport else None
        pieces = _post_import_pieces(conn, lid, league, cap_s)
    return {
        "users_requested": n_users,
        **seeding,
        "health_checks_s": round(statistics.median(totals), 3),
        "health_checks_runs_s": [round(x, 3) for x in totals],
        "health_checks_parts_s": {k: round(v, 3) for k, v in median_run.items()},
        "cap_s": cap_s,  # None below: cancelled by statement_timeout after cap_s
        "reimport_one_league": reimported,
        **pieces,
    }


def _seed(conn: psycopg.Connection, n_users: int) -> dict:
    """The users (and the players they need), 2% of their league contexts lost, ANALYZE; the counts after."""
    from rally_assets.tooling.synthetic.users import seed_users

    t = _now()
    added_players = _top_up_players(conn, n_users)
    seeded = seed_users(conn, n_users, seed=11)
    # 2% of the users lose their league context, as the app's drift does; the post-import repairs it.
    conn.execute("UPDATE users SET league_context = NULL WHERE id % 50 = 0")
    conn.execute("ANALYZE")
    seed_s = _now() - t
    counts = dict(
        zip(
            ("users", "associations", "availability", "players"),
            conn.execute("""SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM user_player_associations),
                               (SELECT count(*) FROM player_availability), (SELECT count(*) FROM players)""").fetchone(),
        )
    )
    return {"seeded": seeded, "players_added_for_users": added_players, "seed_s": round(seed_s, 2), "counts": counts}


def _time_health_checks(conn: psycopg.Connection, repeats: int) -> tuple[list[float], dict[str, float]]:
    """The three health checks `repeats` times: each run's total, and the parts of the median run."""
    from rally_assets.core.users.contexts import league_context_health
    from rally_assets.core.users.health import availability_user_id_coverage, orphan_references

    runs = []
    for _ in range(repeats):
        parts = {}
        t = _now()
        league_context_health(conn)
        parts["league_context_health"] = _now() - t
        t = _now()
        availability_user_id_coverage(conn)
        parts["availability_user_id_coverage"] = _now() - t
        t = _now()
        orphan_references(conn)
        parts["orphan_references"] = _now() - t
        runs.append(parts)
    totals = [sum(r.values()) for r in runs]
    median_run = runs[totals.index(sorted(totals)[len(totals) // 2])]
    return totals, median_run


def _reimport_one_league(url: str, reimport: str, cap_s: float) -> dict:
    """The same league's files again, now that users exist: what every later import pays per league."""
    one = Path(tempfile.mkdtemp(prefix="rally-bench-reimport-"))
    try:
        shutil.copytree(reimport, one / Path(reimport).name)
        return import_landing(url, one, "reimport", floor=False, post_import=False, statement_timeout_s=cap_s)
    except psycopg.errors.QueryCanceled:
        return {"cancelled_after_s": cap_s}
    finally:
        shutil.rmtree(one, ignore_errors=True)


def _post_import_pieces(conn: psycopg.Connection, lid: int, league: str, cap_s: float) -> dict:
    """What post_import_job runs for every user (the publish runs it for its league's users), each capped."""
    from rally_assets.core.protection.snapshots import take_snapshot
    from rally_assets.core.users.contexts import fix_league_contexts
    from rally_assets.core.users.repairs import discover

    league_contexts_s, league_fixed = _capped(
        conn, cap_s, lambda: fix_league_contexts(conn, league_id=lid, source="bench")
    )
    contexts_s, fixed = _capped(conn, cap_s, lambda: fix_league_contexts(conn, source="bench"))
    discovery_s, found = _capped(conn, cap_s, lambda: discover(conn, limit=DISCOVERY_LIMIT, source="bench"))
    snapshot_s, _ = _capped(conn, cap_s, lambda: take_snapshot(conn, f"bench-health-{uuid.uuid4().hex[:8]}", league))
    return {
        "publish_contexts_one_league_s": _round(league_contexts_s),
        "publish_contexts_one_league_fixed": None if league_fixed is None else len(league_fixed),
        "post_import_contexts_s": _round(contexts_s),
        "contexts_fixed": None if fixed is None else len(fixed),
        "post_import_discovery_s": _round(discovery_s),
        "associations_discovered": None if found is None else len(found["discovered"]),
        "snapshot_one_league_s": _round(snapshot_s),
    }
