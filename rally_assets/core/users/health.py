"""Health of what users own: availability keyed by user, references into ETL tables, and the
relink of availability rows that lost their user_id. League-context health is in contexts.py."""

from __future__ import annotations

from collections import Counter

import psycopg

from rally_assets.core.constants import PRACTICE_ROWS
from rally_assets.core.policy import AVAILABILITY_MIN_PCT, CONTEXT_MIN_PCT, meets
from rally_assets.core.schema.profile import AppSchemaProfile, read_profile
from rally_assets.core.sql import load_sql
from rally_assets.core.users.contexts import league_context_health, plan_context_fixes
from rally_assets.core.verdict import Verdict


def availability_user_id_coverage(conn: psycopg.Connection) -> dict:
    """Share of player_availability rows carrying a stable user_id (rally-domain.md §6.2)."""
    total, stable = conn.execute("SELECT count(*), count(user_id) FROM player_availability").fetchone()
    pct = 100.0 if total == 0 else round(stable * 100.0 / total, 2)
    return {"total": total, "with_user_id": stable, "without_user_id": total - stable, "pct": pct}


def _dangling(table: str, column: str, target: str, nullable: bool = True) -> str:
    where = f"x.{column} IS NOT NULL AND " if nullable else ""
    return f"SELECT count(*) FROM {table} x WHERE {where}NOT EXISTS (SELECT 1 FROM {target} t WHERE t.id = x.{column})"


def orphan_queries(profile: AppSchemaProfile) -> dict[str, str]:
    """Each user-side pointer into an ETL table that this state of the app has, and the query
    counting the ones that dangle."""
    pointers = [(f"users.{c}", "users", c, "leagues") for c in profile.context_columns]
    if profile.user_context_columns:
        league, team = profile.user_context_columns
        pointers += [(f"user_contexts.{league}", "user_contexts", league, "leagues")]
        pointers += [(f"user_contexts.{team}", "user_contexts", team, "teams")]
    pointers += [
        (f"{t}.team_id", t, "team_id", "teams") for t in ("polls", "captain_messages") if profile.has(t, "team_id")
    ]
    queries = {name: _dangling(table, column, target) for name, table, column, target in pointers}
    queries["player_availability.player_id"] = _dangling("player_availability", "player_id", "players")
    queries["player_availability.series_id"] = _dangling("player_availability", "series_id", "series", nullable=False)
    queries["practice_times.team_id"] = (
        f"SELECT count(*) FROM schedule s WHERE s.{PRACTICE_ROWS} AND ("
        "(s.home_team_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM teams t WHERE t.id = s.home_team_id)) OR "
        "(s.away_team_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM teams t WHERE t.id = s.away_team_id)))"
    )
    return queries


def orphan_references(conn: psycopg.Connection) -> dict[str, int]:
    return {name: conn.execute(sql).fetchone()[0] for name, sql in orphan_queries(read_profile(conn)).items()}


RELINK_PLAN = load_sql(__name__, "relink_plan.sql")


def relink_plan(conn: psycopg.Connection, user_id: int | None = None) -> tuple[list[dict], list[dict]]:
    """Availability rows without a user_id: those that can be given their user (through the row's
    player, or the app's legacy key player name + series, then the association), and those that
    cannot, each with the reason."""
    keys = ("availability_id", "player_name", "match_date", "user_id", "via", "blocked")
    rows = [dict(zip(keys, r)) for r in conn.execute(RELINK_PLAN, {"user": user_id}).fetchall()]
    return [r for r in rows if r["blocked"] is None], [r for r in rows if r["blocked"] is not None]


def relink_availability(
    conn: psycopg.Connection, *, user_id: int | None = None, dry_run: bool = False, source: str = "cli"
) -> list[dict]:
    """Give availability rows without a user_id the user linked to their player; return the relinks.

    This is a repair of user data, not an import: it runs on its own, never inside a publish.
    """
    with conn.transaction():
        plan, _ = relink_plan(conn, user_id)
        if dry_run or not plan:
            return plan
        params = {
            "ids": [r["availability_id"] for r in plan],
            "users": [r["user_id"] for r in plan],
            "via": [r["via"] for r in plan],
            "source": source,
        }
        # updated_at is left as it was: what the user said is unchanged, only its owner is filled in.
        conn.execute(
            """UPDATE player_availability a SET user_id = x.user_id
            FROM unnest(%(ids)s::integer[], %(users)s::integer[]) AS x(id, user_id)
            WHERE a.id = x.id AND a.user_id IS NULL""",
            params,
        )
        conn.execute(
            """INSERT INTO rally_etl.repairs (source, kind, user_id, before_value, after_value, reason)
            SELECT %(source)s, 'availability_user_id', u, NULL, i::text,
                   CASE v WHEN 'player_id' THEN 'linked through player and association'
                          ELSE 'linked through player name and series (the app''s legacy key), then association' END
            FROM unnest(%(ids)s::integer[], %(users)s::integer[], %(via)s::text[]) AS x(i, u, v)""",
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


# What user tables hold that later app constraints forbid, or that points at rows an older importer
# deleted: reported with counts and ids, never deleted or rewritten to make room.
ANOMALY_SAMPLE = 20


def _anomaly_queries(profile: AppSchemaProfile) -> dict[str, str]:
    context = profile.context_column
    queries = {
        "player_ids_held_by_several_users": """SELECT tenniscores_player_id FROM user_player_associations
            GROUP BY tenniscores_player_id HAVING count(DISTINCT user_id) > 1 ORDER BY 1""",
        "associations_to_unknown_players": """SELECT a.user_id || ':' || a.tenniscores_player_id FROM user_player_associations a
            WHERE NOT EXISTS (SELECT 1 FROM players p WHERE p.tenniscores_player_id = a.tenniscores_player_id) ORDER BY 1""",
        "contexts_on_deleted_leagues": f"""SELECT u.id::text FROM users u WHERE u.{context} IS NOT NULL
            AND NOT EXISTS (SELECT 1 FROM leagues l WHERE l.id = u.{context}) ORDER BY u.id""",
        "availability_on_deleted_players": """SELECT a.id::text FROM player_availability a WHERE a.player_id IS NOT NULL
            AND NOT EXISTS (SELECT 1 FROM players p WHERE p.id = a.player_id) ORDER BY a.id""",
        "availability_on_deleted_series": """SELECT a.id::text FROM player_availability a
            WHERE NOT EXISTS (SELECT 1 FROM series s WHERE s.id = a.series_id) ORDER BY a.id""",
    }
    if profile.has("polls", "team_id"):
        queries["polls_on_deleted_teams"] = """SELECT p.id::text FROM polls p WHERE p.team_id IS NOT NULL
            AND NOT EXISTS (SELECT 1 FROM teams t WHERE t.id = p.team_id) ORDER BY p.id"""
    return queries


def user_data_anomalies(conn: psycopg.Connection) -> dict[str, dict]:
    """Each kind of anomaly in the user tables: its count and the first ids; availability rows
    without a user_id that cannot be relinked are listed with their reasons."""
    found = {}
    for kind, sql in _anomaly_queries(read_profile(conn)).items():
        ids = [r[0] for r in conn.execute(sql).fetchall()]
        found[kind] = {"count": len(ids), "ids": ids[:ANOMALY_SAMPLE]}
    _, blocked = relink_plan(conn)
    found["availability_without_user_not_relinkable"] = {
        "count": len(blocked),
        "ids": [str(r["availability_id"]) for r in blocked[:ANOMALY_SAMPLE]],
        "reasons": dict(Counter(r["blocked"] for r in blocked)),
    }
    return found


def _user_health_sql(context_column: str) -> str:
    return f"""
SELECT u.email, l.league_id,
       (SELECT count(*) FROM user_player_associations a WHERE a.user_id = u.id),
       (SELECT count(*) FROM player_availability pa WHERE pa.user_id = u.id)
FROM users u LEFT JOIN leagues l ON l.id = u.{context_column} WHERE u.id = %s
"""


def user_health(conn: psycopg.Connection, user_id: int) -> dict:
    """One user's league context (valid or not, and what the repair would set), links and availability.

    The context is judged by the one rule, as for every user: `fix` is the change fix-league-contexts
    would make (None when the context is valid, or when the user has no association to judge it by);
    `verdict` says which, for the operator.
    """
    email, league, associations, availability = conn.execute(
        _user_health_sql(read_profile(conn).context_column), (user_id,)
    ).fetchone()
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
