"""League contexts: ONE rule to choose a user's league, the repair that applies it, and its health.

The rule (rally-domain.md §4.3, used by the publish, the repair job and the CLI alike): among the
leagues of the user's active associated players, prefer one where the player has a team, then the
most matches played there, then the most recent match, then the lowest league id.

A context is valid when it equals the league of one of the user's active associated players
(§6.1). Invalid ones are NULL, BROKEN (the league does not exist) or NOT_MEMBER (an existing
league the user does not play in); all three are repaired the same way. user_contexts is kept
consistent with the chosen league.
"""

from __future__ import annotations

import psycopg

from rally_assets.core.policy import health_band
from rally_assets.core.protection.guard import context_repair, guarded_execute
from rally_assets.core.schema.profile import AppSchemaProfile, read_profile
from rally_assets.core.sql import load_sql

# Per (user, league) the evidence for the rule, over users in the temp table scope_users(user_id).
CONTEXT_EVIDENCE = load_sql(__name__, "context_evidence.sql")

BEST_LEAGUE = (
    CONTEXT_EVIDENCE
    + """
SELECT DISTINCT ON (user_id) user_id, league_id, team_id, has_team, matches, last_match
FROM per_league
ORDER BY user_id, has_team DESC, matches DESC, last_match DESC NULLS LAST, league_id
"""
)


def valid_context(column: str) -> str:
    """A valid league context (rally-domain.md §6.1) of the user `u`, held in users.<column>: the
    league of one of the user's active associated players. NULL and a deleted league are not valid."""
    return f"""EXISTS (
    SELECT 1 FROM user_player_associations a JOIN players p
      ON p.tenniscores_player_id = a.tenniscores_player_id AND p.is_active
    WHERE a.user_id = u.id AND p.league_id = u.{column})"""


def _context_health_sql(column: str) -> str:
    return f"""
WITH linked AS (SELECT DISTINCT user_id FROM user_player_associations)
SELECT count(*), count(*) FILTER (WHERE u.{column} IS NULL), count(*) FILTER (WHERE {valid_context(column)})
FROM users u JOIN linked l ON l.user_id = u.id
"""


def _context_fixes_sql(profile: AppSchemaProfile) -> str:
    """The users in scope whose context is not valid, with the league the rule gives them."""
    column = profile.context_column
    user_context = profile.user_context_columns
    if user_context:
        uc_select = f"uc.user_id IS NOT NULL AS has_user_context, uc.{user_context[0]}, uc.{user_context[1]}"
        uc_join = "LEFT JOIN user_contexts uc ON uc.user_id = u.id"
    else:
        uc_select, uc_join = "false AS has_user_context, NULL::integer, NULL::integer", ""
    return f"""
WITH best AS ({BEST_LEAGUE})
SELECT u.id, u.email, u.{column}, cur.league_id AS current_league, b.league_id AS new_context,
       nl.league_id AS new_league, b.has_team, b.matches, b.team_id,
       CASE WHEN u.{column} IS NULL THEN 'NULL'
            WHEN cur.id IS NULL THEN 'BROKEN'
            ELSE 'NOT_MEMBER' END AS reason,
       {uc_select}
FROM users u
JOIN best b ON b.user_id = u.id
JOIN leagues nl ON nl.id = b.league_id
LEFT JOIN leagues cur ON cur.id = u.{column}
{uc_join}
WHERE NOT {valid_context(column)}
ORDER BY u.id
"""


def _scope(
    conn: psycopg.Connection, *, user_id: int | None, league_id: int | None, user_ids: list[int] | None = None
) -> None:
    """Fill the temp table scope_users: one user, some users, the users linked to one league, or every linked user."""
    conn.execute("DROP TABLE IF EXISTS scope_users")
    conn.execute(
        """CREATE TEMP TABLE scope_users AS
        SELECT DISTINCT a.user_id FROM user_player_associations a
        WHERE (%(user)s::integer IS NULL OR a.user_id = %(user)s)
          AND (%(users)s::integer[] IS NULL OR a.user_id = ANY(%(users)s::integer[]))
          AND (%(league)s::integer IS NULL OR EXISTS (
                SELECT 1 FROM players p WHERE p.tenniscores_player_id = a.tenniscores_player_id
                AND p.league_id = %(league)s))""",
        {"user": user_id, "league": league_id, "users": user_ids},
    )


def plan_context_fixes(
    conn: psycopg.Connection,
    *,
    user_id: int | None = None,
    league_id: int | None = None,
    user_ids: list[int] | None = None,
    profile: AppSchemaProfile | None = None,
) -> list[dict]:
    """What fix_league_contexts would change, as rows (nothing is written except a temp table)."""
    _scope(conn, user_id=user_id, league_id=league_id, user_ids=user_ids)
    rows = conn.execute(_context_fixes_sql(profile or read_profile(conn))).fetchall()
    keys = (
        "user_id",
        "email",
        "old_context",
        "old_league",
        "new_context",
        "new_league",
        "has_team",
        "matches",
        "team_id",
        "reason",
        "has_user_context",
        "active_league_id",
        "active_team_id",
    )
    return [dict(zip(keys, r)) for r in rows]


def _context_fixes_table(conn: psycopg.Connection, changes: list[dict]) -> None:
    """The temp table context_fixes (user_id, league_id, team_id) for this transaction; dropped first,
    since a dry run publishes several leagues in one transaction (pipeline.rehearse_import)."""
    guarded_execute(conn, "DROP TABLE IF EXISTS context_fixes")
    guarded_execute(
        conn,
        """CREATE TEMP TABLE context_fixes ON COMMIT DROP AS
        SELECT * FROM unnest(%(users)s::integer[], %(contexts)s::integer[], %(teams)s::integer[])
            AS f(user_id, league_id, team_id)""",
        {
            "users": [c["user_id"] for c in changes],
            "contexts": [c["new_context"] for c in changes],
            "teams": [c["team_id"] for c in changes],
        },
    )


def fix_league_contexts(
    conn: psycopg.Connection,
    *,
    user_id: int | None = None,
    league_id: int | None = None,
    user_ids: list[int] | None = None,
    dry_run: bool = False,
    source: str = "cli",
    profile: AppSchemaProfile | None = None,
) -> list[dict]:
    """Apply the one rule to every invalid context in scope; keep user_contexts consistent.

    Works inside the publish transaction (league scope) or on its own (CLI, repair job).
    Returns the changes (for a dry run: the changes it would make). `profile`: the app schema's,
    when the caller read it in this same transaction (the publish); else read here, once.
    """
    with conn.transaction():
        profile = profile or read_profile(conn)
        changes = plan_context_fixes(conn, user_id=user_id, league_id=league_id, user_ids=user_ids, profile=profile)
        if dry_run or not changes:
            return changes
        with context_repair(conn):
            _apply_context_fixes(conn, profile, changes, source)
    return changes


RECORD_CONTEXT_FIXES = """
INSERT INTO rally_etl.repairs (source, kind, user_id, league, before_value, after_value, reason)
SELECT %(source)s, 'league_context', x.user_id, x.new_league, x.old_context::text, x.new_context::text,
       x.reason || CASE WHEN x.has_team THEN ': league with a team' ELSE ': league played in' END
       || ', ' || x.matches || ' matches'
FROM unnest(%(users)s::integer[], %(leagues)s::text[], %(old)s::integer[], %(new)s::integer[],
            %(reasons)s::text[], %(teams)s::boolean[], %(matches)s::bigint[])
    AS x(user_id, new_league, old_context, new_context, reason, has_team, matches)
"""


def _apply_context_fixes(conn: psycopg.Connection, profile: AppSchemaProfile, changes: list[dict], source: str) -> None:
    """Write the planned contexts: every users column that holds the context (the app's current one and,
    where it is still there, the older one), user_contexts where the app has it, and the repair log."""
    column = lambda key: [c[key] for c in changes]  # noqa: E731
    _context_fixes_table(conn, changes)
    sets = ", ".join(f"{c} = f.league_id" for c in profile.context_columns)
    guarded_execute(conn, f"UPDATE users u SET {sets} FROM context_fixes f WHERE u.id = f.user_id")
    if profile.user_context_columns:  # user_contexts follows: same league, and a team of the user's in it
        league, team = profile.user_context_columns
        stamp = ", last_updated = now()" if profile.has("user_contexts", "last_updated") else ""
        guarded_execute(
            conn,
            f"""UPDATE user_contexts uc SET {league} = f.league_id, {team} = f.team_id{stamp}
            FROM context_fixes f WHERE uc.user_id = f.user_id
              AND (uc.{league}, uc.{team}) IS DISTINCT FROM (f.league_id, f.team_id)""",
        )
    guarded_execute(
        conn,
        RECORD_CONTEXT_FIXES,
        {
            "source": source,
            "users": column("user_id"),
            "leagues": column("new_league"),
            "old": column("old_context"),
            "new": column("new_context"),
            "reasons": column("reason"),
            "teams": column("has_team"),
            "matches": column("matches"),
        },
    )


def league_context_health(conn: psycopg.Connection) -> dict:
    """Users with at least one association: valid / NULL / broken, score and band."""
    total, nulls, valid = conn.execute(_context_health_sql(read_profile(conn).context_column)).fetchone()
    score = 100.0 if total == 0 else round(valid * 100.0 / total, 2)
    return {
        "total": total,
        "valid": valid,
        "null": nulls,
        "broken": total - nulls - valid,
        "score": score,
        "band": health_band(score),
    }
