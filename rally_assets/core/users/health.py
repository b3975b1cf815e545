"""Health of what users own: availability keyed by user, references into ETL tables, and the
relink of availability rows that lost their user_id. League-context health is in contexts.py."""

from __future__ import annotations

import psycopg

from rally_assets.core.policy import AVAILABILITY_MIN_PCT, CONTEXT_MIN_PCT, meets
from rally_assets.core.sql import load_sql
from rally_assets.core.users.contexts import league_context_health, plan_context_fixes
from rally_assets.core.verdict import Verdict


def availability_user_id_coverage(conn: psycopg.Connection) -> dict:
    """Share of player_availability rows carrying a stable user_id (rally-domain.md §6.2)."""
    total, stable = conn.execute("SELECT count(*), count(user_id) FROM player_availability").fetchone()
    pct = 100.0 if total == 0 else round(stable * 100.0 / total, 2)
    return {"total": total, "with_user_id": stable, "without_user_id": total - stable, "pct": pct}


# Each user-side pointer into an ETL table, and the query counting the ones that dangle.
ORPHAN_QUERIES = {
    "users.league_context": "SELECT count(*) FROM users u WHERE u.league_context IS NOT NULL "
    "AND NOT EXISTS (SELECT 1 FROM leagues l WHERE l.id = u.league_context)",
    "user_contexts.active_league_id": "SELECT count(*) FROM user_contexts c WHERE c.active_league_id IS NOT NULL "
    "AND NOT EXISTS (SELECT 1 FROM leagues l WHERE l.id = c.active_league_id)",
    "user_contexts.active_team_id": "SELECT count(*) FROM user_contexts c WHERE c.active_team_id IS NOT NULL "
    "AND NOT EXISTS (SELECT 1 FROM teams t WHERE t.id = c.active_team_id)",
    "polls.team_id": "SELECT count(*) FROM polls p WHERE p.team_id IS NOT NULL "
    "AND NOT EXISTS (SELECT 1 FROM teams t WHERE t.id = p.team_id)",
    "captain_messages.team_id": "SELECT count(*) FROM captain_messages m "
    "WHERE NOT EXISTS (SELECT 1 FROM teams t WHERE t.id = m.team_id)",
    "player_availability.player_id": "SELECT count(*) FROM player_availability a WHERE a.player_id IS NOT NULL "
    "AND NOT EXISTS (SELECT 1 FROM players p WHERE p.id = a.player_id)",
    "player_availability.series_id": "SELECT count(*) FROM player_availability a "
    "WHERE NOT EXISTS (SELECT 1 FROM series s WHERE s.id = a.series_id)",
    "practice_times.team_id": "SELECT count(*) FROM schedule s WHERE s.etl_row_hash IS NULL AND ("
    "(s.home_team_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM teams t WHERE t.id = s.home_team_id)) OR "
    "(s.away_team_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM teams t WHERE t.id = s.away_team_id)))",
}


def orphan_references(conn: psycopg.Connection) -> dict[str, int]:
    return {name: conn.execute(sql).fetchone()[0] for name, sql in ORPHAN_QUERIES.items()}


RELINK_PLAN = load_sql(__name__, "relink_plan.sql")


def relink_availability(
    conn: psycopg.Connection, *, user_id: int | None = None, dry_run: bool = False, source: str = "cli"
) -> list[dict]:
    """Give availability rows without a user_id the user linked to their player (player -> association).

    This is a repair of user data, not an import: it runs on its own, never inside a publish.
    """
    with conn.transaction():
        rows = conn.execute(RELINK_PLAN, {"user": user_id}).fetchall()
        plan = [dict(zip(("availability_id", "player_name", "match_date", "user_id"), r)) for r in rows]
        if dry_run or not plan:
            return plan
        params = {"ids": [r["availability_id"] for r in plan], "users": [r["user_id"] for r in plan], "source": source}
        # updated_at is left as it was: what the user said is unchanged, only its owner is filled in.
        conn.execute(
            """UPDATE player_availability a SET user_id = x.user_id
            FROM unnest(%(ids)s::integer[], %(users)s::integer[]) AS x(id, user_id)
            WHERE a.id = x.id AND a.user_id IS NULL""",
            params,
        )
        conn.execute(
            """INSERT INTO etl_repairs (source, kind, user_id, before_value, after_value, reason)
            SELECT %(source)s, 'availability_user_id', u, NULL, i::text, 'linked through player and association'
            FROM unnest(%(ids)s::integer[], %(users)s::integer[]) AS x(i, u)""",
            params,
        )
    return plan


def league_context_verdict(conn: psycopg.Connection) -> Verdict:
    """At least CONTEXT_MIN_PCT of the users with associations have a valid league context."""
    health = league_context_health(conn)
    passed = meets(health["valid"], health["total"], CONTEXT_MIN_PCT)
    why = (
        f"league-context health {health['score']}% ({health['band']}): {health['valid']} valid, "
        f"{health['null']} NULL, {health['broken']} broken of {health['total']}"
    )
    return Verdict(passed, why, health)


def availability_user_id_verdict(conn: psycopg.Connection) -> Verdict:
    """At least AVAILABILITY_MIN_PCT of the availability rows carry a user_id."""
    coverage = availability_user_id_coverage(conn)
    passed = meets(coverage["with_user_id"], coverage["total"], AVAILABILITY_MIN_PCT)
    return Verdict(passed, f"{coverage['pct']}% of {coverage['total']} availability rows carry a user_id", coverage)


USER_HEALTH = """
SELECT u.email, l.league_id,
       (SELECT count(*) FROM user_player_associations a WHERE a.user_id = u.id),
       (SELECT count(*) FROM player_availability pa WHERE pa.user_id = u.id)
FROM users u LEFT JOIN leagues l ON l.id = u.league_context WHERE u.id = %s
"""


def user_health(conn: psycopg.Connection, user_id: int) -> dict:
    """One user's league context (valid or not, and what the repair would set), links and availability.

    The context is judged by the one rule, as for every user: `fix` is the change fix-league-contexts
    would make (None when the context is valid, or when the user has no association to judge it by);
    `verdict` says which, for the operator.
    """
    email, league, associations, availability = conn.execute(USER_HEALTH, (user_id,)).fetchone()
    fixes = plan_context_fixes(conn, user_id=user_id)
    fix = fixes[0] if fixes else None
    if associations == 0:
        verdict = "not judged: no association"
    elif fix is None:
        verdict = "valid"
    else:
        verdict = f"invalid ({fix['reason']}): fix-league-contexts would set {fix['new_league']}"
    return {
        "email": email,
        "league_context": league,
        "associations": associations,
        "availability": availability,
        "fix": fix,
        "verdict": verdict,
    }
