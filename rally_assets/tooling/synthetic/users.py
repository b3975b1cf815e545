"""Synthetic app users attached to real (or synthetic) players: what the app would have written.

Used by `rally demo` and by the tests' fixtures. Set-based and deterministic by seed; running it
again adds nobody twice (users are keyed by email, players already claimed are skipped).
"""

from __future__ import annotations

import psycopg


def seed_users(
    conn: psycopg.Connection, n_users: int, seed: int = 0, availability_per_user: int = 3, league: str | None = None
) -> dict:
    """Create up to `n_users` users, each linked to one active unclaimed player (of `league`, a league
    string id, when given), with a league context (the player's league), a user_contexts row and
    `availability_per_user` availability rows."""
    params = {"n": n_users, "seed": str(seed), "k": availability_per_user, "league": league}
    with conn.transaction():
        conn.execute(
            """CREATE TEMP TABLE seed_pick ON COMMIT DROP AS
            WITH unclaimed AS (
                SELECT DISTINCT ON (p.tenniscores_player_id) p.id AS player_id, p.tenniscores_player_id,
                       p.first_name, p.last_name, p.league_id, p.team_id, p.series_id
                FROM players p
                WHERE p.is_active
                  AND (%(league)s::text IS NULL OR p.league_id IN (SELECT id FROM leagues WHERE league_id = %(league)s))
                  AND NOT EXISTS (
                    SELECT 1 FROM user_player_associations a WHERE a.tenniscores_player_id = p.tenniscores_player_id)
                ORDER BY p.tenniscores_player_id, p.id)
            SELECT *, 'player-' || md5(tenniscores_player_id) || '@users.rally.example' AS email
            FROM unclaimed ORDER BY md5(tenniscores_player_id || %(seed)s) LIMIT %(n)s""",
            params,
        )
        users = conn.execute(
            """INSERT INTO users (email, password_hash, first_name, last_name, league_context, league_id,
                                  tenniscores_player_id)
            SELECT email, 'synthetic', first_name, last_name, league_id, league_id, tenniscores_player_id
            FROM seed_pick ON CONFLICT (email) DO NOTHING RETURNING id""",
        ).rowcount
        links = conn.execute(
            """INSERT INTO user_player_associations (user_id, tenniscores_player_id, is_primary)
            SELECT u.id, s.tenniscores_player_id, true FROM seed_pick s JOIN users u ON u.email = s.email
            ON CONFLICT DO NOTHING""",
        ).rowcount
        contexts = conn.execute(
            """INSERT INTO user_contexts (user_id, active_league_id, active_team_id)
            SELECT u.id, s.league_id, s.team_id FROM seed_pick s JOIN users u ON u.email = s.email
            ON CONFLICT (user_id) DO NOTHING""",
        ).rowcount
        availability = conn.execute(
            """INSERT INTO player_availability (user_id, player_id, player_name, series_id, match_date,
                                               availability_status, notes)
            SELECT u.id, s.player_id, concat_ws(' ', s.first_name, s.last_name), s.series_id,
                   timestamptz '2025-01-06 00:00:00+00' + make_interval(days => 7 * k),
                   1 + (abs(hashtext(s.tenniscores_player_id)) + k) %% 3, NULL
            FROM seed_pick s JOIN users u ON u.email = s.email CROSS JOIN generate_series(0, %(k)s - 1) AS k
            ON CONFLICT DO NOTHING""",
            params,
        ).rowcount
    return {"users": users, "associations": links, "user_contexts": contexts, "availability": availability}
