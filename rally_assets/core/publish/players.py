"""Players, upserted by (tenniscores_player_id, league, club, series); a player the import no
longer names is deactivated, never deleted. Career numbers come only with player_history."""

from __future__ import annotations

import psycopg

from rally_assets.core.publish.report import TableChanges
from rally_assets.core.publish.scope import in_scope
from rally_assets.core.publish.steps import S, count, inserted_and_updated, run, temp_table

# The columns a player row takes from the import; career_* keep the known value when not given.
PLAYER_VALUES = (
    "first_name",
    "last_name",
    "team_id",
    "pti",
    "wins",
    "losses",
    "win_percentage",
    "captain_status",
    "career_wins",
    "career_losses",
    "career_matches",
    "career_win_percentage",
)

STAGED_PLAYERS = f"""
SELECT DISTINCT ON (sp.tenniscores_player_id, c.id, s.id)
       sp.tenniscores_player_id, sp.first_name, sp.last_name, c.id AS club_id, s.id AS series_id,
       t.team_id, sp.pti, sp.wins, sp.losses, sp.win_percentage, sp.captain_status,
       sp.career_wins, sp.career_losses, sp.career_wins + sp.career_losses AS career_matches,
       CASE WHEN sp.career_wins + sp.career_losses > 0
            THEN round(sp.career_wins * 100.0 / (sp.career_wins + sp.career_losses), 2) END
           AS career_win_percentage
FROM {S}.stg_players sp
JOIN pub_clubs c ON c.name_key = lower(sp.club)
JOIN series s ON s.league_id = %(lid)s AND s.name = sp.series
LEFT JOIN pub_team_ids t ON t.name = sp.team_name
WHERE sp.run_id = %(run)s
ORDER BY sp.tenniscores_player_id, c.id, s.id, sp.row_number
"""
SAME_PLAYER = "(o.tenniscores_player_id, o.club_id, o.series_id) = (n.tenniscores_player_id, n.club_id, n.series_id)"
MOVED_TEAM = f"""
SELECT count(*) FROM players o JOIN pub_players n ON {SAME_PLAYER}
WHERE o.league_id = %(lid)s AND o.team_id IS DISTINCT FROM n.team_id AND o.team_id IS NOT NULL
"""
DIFF_SAMPLE = f"""
(SELECT 'added', n.tenniscores_player_id, concat_ws(' ', n.first_name, n.last_name), NULL::text,
        (SELECT team_name FROM teams WHERE id = n.team_id)
    FROM pub_players n WHERE NOT EXISTS (SELECT 1 FROM players o WHERE o.league_id = %(lid)s AND {SAME_PLAYER})
    ORDER BY 2 LIMIT 5)
UNION ALL
(SELECT 'moved team', n.tenniscores_player_id, concat_ws(' ', n.first_name, n.last_name),
        (SELECT team_name FROM teams WHERE id = o.team_id), (SELECT team_name FROM teams WHERE id = n.team_id)
    FROM pub_players n JOIN players o ON o.league_id = %(lid)s AND {SAME_PLAYER}
    WHERE o.team_id IS DISTINCT FROM n.team_id AND o.team_id IS NOT NULL ORDER BY 2 LIMIT 5)
UNION ALL
(SELECT 'deactivated', o.tenniscores_player_id, concat_ws(' ', o.first_name, o.last_name),
        (SELECT team_name FROM teams WHERE id = o.team_id), NULL
    FROM players o WHERE o.league_id = %(lid)s AND o.is_active IS NOT FALSE AND {in_scope("o.series_id")}
      AND NOT EXISTS (SELECT 1 FROM pub_players n WHERE {SAME_PLAYER})
    ORDER BY 2 LIMIT 5)
"""
DIFF_COLUMNS = ("change", "player_id", "name", "team_before", "team_after")


def _kept_if_absent(column: str) -> str:
    return f"coalesce(EXCLUDED.{column}, players.{column})" if column.startswith("career_") else f"EXCLUDED.{column}"


_COLUMNS = ", ".join(PLAYER_VALUES)
UPSERT_PLAYERS = f"""
INSERT INTO players (tenniscores_player_id, league_id, club_id, series_id, {_COLUMNS}, is_active)
SELECT tenniscores_player_id, %(lid)s, club_id, series_id, {_COLUMNS}, true FROM pub_players
ON CONFLICT (tenniscores_player_id, league_id, club_id, series_id) DO UPDATE
    SET {", ".join(f"{c} = {_kept_if_absent(c)}" for c in PLAYER_VALUES)}, is_active = true, updated_at = now()
    WHERE ({", ".join(f"players.{c}" for c in PLAYER_VALUES)}, players.is_active)
          IS DISTINCT FROM ({", ".join(_kept_if_absent(c) for c in PLAYER_VALUES)}, true)
RETURNING (xmax = 0) AS inserted
"""
# Only inside the publish's scope: a partial scrape says nothing of the series it does not cover.
DEACTIVATE_PLAYERS = f"""
UPDATE players o SET is_active = false, updated_at = now()
WHERE o.league_id = %(lid)s AND o.is_active IS NOT FALSE AND {in_scope("o.series_id")}
  AND NOT EXISTS (SELECT 1 FROM pub_players n
                  WHERE (n.tenniscores_player_id, n.club_id, n.series_id)
                      = (o.tenniscores_player_id, o.club_id, o.series_id))
RETURNING o.id
"""


def upsert_players(conn: psycopg.Connection, p: dict) -> tuple[TableChanges, int, list[dict]]:
    """The players of the run: (changes, players that moved team, a sample of the diff)."""
    temp_table(conn, "pub_players", STAGED_PLAYERS, p)
    moved = run(conn, MOVED_TEAM, p).fetchone()[0]
    sample = [dict(zip(DIFF_COLUMNS, r)) for r in run(conn, DIFF_SAMPLE, p).fetchall()]
    inserted, updated = inserted_and_updated(run(conn, UPSERT_PLAYERS, p).fetchall())
    deactivated = count(conn, DEACTIVATE_PLAYERS, p)
    return TableChanges(inserted=inserted, updated=updated, deactivated=deactivated), moved, sample
