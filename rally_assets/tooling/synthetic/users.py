"""Synthetic app users attached to real (or synthetic) players: what the app would have written.

Used by `rally demo` and by the tests' fixtures. Set-based and deterministic by seed; running it
again adds nobody twice (users are keyed by email, players already claimed are skipped).
"""

from __future__ import annotations

import psycopg

from rally_assets.core.schema.profile import read_profile

EMAIL_DOMAIN = "users.rally.example"  # every synthetic user's email ends in @ this


def synthetic_user_count(conn: psycopg.Connection) -> int:
    """How many synthetic users the database already holds (`rally demo` reuses them)."""
    return conn.execute("SELECT count(*) FROM users WHERE email LIKE %s", (f"%@{EMAIL_DOMAIN}",)).fetchone()[0]


# Each user is linked to one active unclaimed player (of `league`, when given), picked by seed.
SEED_PICK = """CREATE TEMP TABLE seed_pick ON COMMIT DROP AS
WITH unclaimed AS (
    SELECT DISTINCT ON (p.tenniscores_player_id) p.id AS player_id, p.tenniscores_player_id,
           p.first_name, p.last_name, p.league_id, p.team_id, p.series_id
    FROM players p
    WHERE p.is_active
      AND (%(league)s::text IS NULL OR p.league_id IN (SELECT id FROM leagues WHERE league_id = %(league)s))
      AND NOT EXISTS (
        SELECT 1 FROM user_player_associations a WHERE a.tenniscores_player_id = p.tenniscores_player_id)
    ORDER BY p.tenniscores_player_id, p.id)
SELECT *, 'player-' || md5(tenniscores_player_id) || %(domain)s AS email
FROM unclaimed ORDER BY md5(tenniscores_player_id || %(seed)s) LIMIT %(n)s"""
# What the app writes for them (column -> expression); each state of the app's schema takes what it has.
USER_VALUES = {
    "email": "email",
    "password_hash": "'synthetic'",
    "first_name": "first_name",
    "last_name": "last_name",
    "league_context": "league_id",
    "league_id": "league_id",
    "tenniscores_player_id": "tenniscores_player_id",
    "is_admin": "false",
    "created_at": "now()",
}
LINK_VALUES = {
    "user_id": "u.id",
    "tenniscores_player_id": "s.tenniscores_player_id",
    "is_primary": "true",
    "created_at": "now()",
}
AVAILABILITY_VALUES = {
    "user_id": "u.id",
    "player_id": "s.player_id",
    "player_name": "concat_ws(' ', s.first_name, s.last_name)",
    "series_id": "s.series_id",
    "match_date": "timestamptz '2025-01-06 00:00:00+00' + make_interval(days => 7 * k)",
    "availability_status": "1 + (abs(hashtext(s.tenniscores_player_id)) + k) %% 3",
    "updated_at": "now()",
}
PICKED = "FROM seed_pick s JOIN users u ON u.email = s.email"


def seed_users(
    conn: psycopg.Connection, n_users: int, seed: int = 0, availability_per_user: int = 3, league: str | None = None
) -> dict:
    """Create up to `n_users` users, each linked to one active unclaimed player (of `league`, a league
    string id, when given), with a league context (the player's league), a user_contexts row and
    `availability_per_user` availability rows."""
    params = {"n": n_users, "seed": str(seed), "k": availability_per_user, "league": league}
    with conn.transaction():
        conn.execute(SEED_PICK, {**params, "domain": f"@{EMAIL_DOMAIN}"})
        profile = read_profile(conn)
        users = _insert(conn, profile, "users", USER_VALUES, "FROM seed_pick ON CONFLICT (email) DO NOTHING")
        links = _insert(conn, profile, "user_player_associations", LINK_VALUES, f"{PICKED} ON CONFLICT DO NOTHING")
        contexts = 0
        if profile.user_context_columns:
            league_column, team_column = profile.user_context_columns
            values = {"user_id": "u.id", league_column: "s.league_id", team_column: "s.team_id"}
            values |= {"series_id": "s.series_id", "last_updated": "now()"}
            contexts = _insert(conn, profile, "user_contexts", values, f"{PICKED} ON CONFLICT (user_id) DO NOTHING")
        availability = _insert(
            conn,
            profile,
            "player_availability",
            AVAILABILITY_VALUES,
            f"{PICKED} CROSS JOIN generate_series(0, %(k)s - 1) AS k ON CONFLICT DO NOTHING",
            params,
        )
    return {"users": users, "associations": links, "user_contexts": contexts, "availability": availability}


def _insert(conn: psycopg.Connection, profile, table: str, values: dict[str, str], rest: str, params=None) -> int:
    """INSERT what the app's schema state has of `values` (column -> expression), as the app would."""
    present = {c: e for c, e in values.items() if profile.has(table, c)}
    sql = f"INSERT INTO {table} ({', '.join(present)}) SELECT {', '.join(present.values())} {rest}"
    return conn.execute(sql, params).rowcount


DATABASE_TOTALS = {
    "leagues": "SELECT count(*) FROM leagues",
    "teams": "SELECT count(*) FROM teams",
    "players_active": "SELECT count(*) FROM players WHERE is_active",
    "match_scores": "SELECT count(*) FROM match_scores",
    "users": "SELECT count(*) FROM users",
    "associations": "SELECT count(*) FROM user_player_associations",
    "availability": "SELECT count(*) FROM player_availability",
}


def database_totals(conn: psycopg.Connection) -> dict[str, int]:
    """What the demo database holds, by kind (what `rally demo` prints at the end)."""
    return {name: conn.execute(sql).fetchone()[0] for name, sql in DATABASE_TOTALS.items()}
