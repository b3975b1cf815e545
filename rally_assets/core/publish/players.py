"""Players, upserted by (tenniscores_player_id, league, club, series); a player the import no
longer names is deactivated, never deleted. Career numbers come only with player_history."""

from __future__ import annotations

from dataclasses import dataclass

from rally_assets.core.publish.context import Step
from rally_assets.core.publish.report import TableChanges
from rally_assets.core.publish.scope import in_scope
from rally_assets.core.publish.steps import S, count, run, temp_table

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
       sp.tenniscores_player_id, coalesce(sp.first_name, '') AS first_name, sp.last_name, c.id AS club_id, s.id AS series_id,
       t.team_id, sp.pti, sp.wins, sp.losses, sp.win_percentage, sp.captain_status,
       sp.career_wins, sp.career_losses, sp.career_wins + sp.career_losses AS career_matches,
       CASE WHEN sp.career_wins + sp.career_losses > 0
            THEN round(sp.career_wins * 100.0 / (sp.career_wins + sp.career_losses), 2) END
           AS career_win_percentage
FROM {S}.stg_players sp
JOIN pub_clubs c ON c.name_key = lower(sp.club)
JOIN pub_series s ON s.name = sp.series
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


def _new_value(column: str) -> str:
    """The value a staged player gives a column: career numbers only come with player_history."""
    return f"coalesce(n.{column}, o.{column})" if column.startswith("career_") else f"n.{column}"


_SAME_KEY = "o.league_id = %(lid)s AND " + SAME_PLAYER
UPDATE_PLAYERS = f"""
UPDATE players o SET {", ".join(f"{c} = {_new_value(c)}" for c in PLAYER_VALUES)}, is_active = true{{touch}}
FROM pub_players n
WHERE {_SAME_KEY}
  AND ({", ".join(f"o.{c}" for c in PLAYER_VALUES)}, o.is_active)
      IS DISTINCT FROM ({", ".join(_new_value(c) for c in PLAYER_VALUES)}, true)
RETURNING o.id
"""
INSERT_PLAYERS = f"""
INSERT INTO players ({{columns}}) SELECT {{values}} FROM pub_players n
WHERE NOT EXISTS (SELECT 1 FROM players o WHERE {_SAME_KEY})
RETURNING id
"""
# Only inside the publish's scope: a partial scrape says nothing of the series it does not cover.
DEACTIVATE_PLAYERS = f"""
UPDATE players o SET is_active = false{{touch}}
WHERE o.league_id = %(lid)s AND o.is_active IS NOT FALSE AND {in_scope("o.series_id")}
  AND NOT EXISTS (SELECT 1 FROM pub_players n
                  WHERE (n.tenniscores_player_id, n.club_id, n.series_id)
                      = (o.tenniscores_player_id, o.club_id, o.series_id))
RETURNING o.id
"""


# Of the players just deactivated: those a user is linked to (what the churn breaker weighs most), and
# those still active in a series a partial scrape does not cover (moved out of it, not departed).
DEACTIVATED_KINDS = f"""
SELECT count(*) FILTER (WHERE linked), count(*) FILTER (WHERE moved_out), count(*) FILTER (WHERE moved_out AND linked)
FROM (SELECT EXISTS (SELECT 1 FROM user_player_associations a
                     WHERE a.tenniscores_player_id = p.tenniscores_player_id) AS linked,
             EXISTS (SELECT 1 FROM players q WHERE q.league_id = p.league_id AND q.is_active
                     AND q.tenniscores_player_id = p.tenniscores_player_id AND NOT {in_scope("q.series_id")}) AS moved_out
      FROM players p WHERE p.id = ANY(%(ids)s::integer[])) d
"""


@dataclass
class Deactivated:
    linked: int = 0
    moved_out: int = 0
    moved_out_linked: int = 0


def upsert_players(step: Step) -> tuple[TableChanges, int, list[dict], Deactivated]:
    """The players of the run: (changes, players that moved team, a sample of the diff, what the
    deactivated players were)."""
    conn, p = step.conn, step.p
    temp_table(conn, "pub_players", STAGED_PLAYERS, p)
    moved = run(conn, MOVED_TEAM, p).fetchone()[0]
    sample = [dict(zip(DIFF_COLUMNS, r)) for r in run(conn, DIFF_SAMPLE, p).fetchall()]
    touch = step.touch("players")
    updated = count(conn, UPDATE_PLAYERS.format(touch=touch), p)
    values = {c: f"n.{c}" for c in ("tenniscores_player_id", "club_id", "series_id", *PLAYER_VALUES)}
    columns, exprs = step.insert_columns("players", {**values, "league_id": "%(lid)s", "is_active": "true"})
    inserted = count(conn, INSERT_PLAYERS.format(columns=columns, values=exprs), p)
    deactivated_ids = [r[0] for r in run(conn, DEACTIVATE_PLAYERS.format(touch=touch), p).fetchall()]
    kinds = (
        Deactivated(*run(conn, DEACTIVATED_KINDS, {"ids": deactivated_ids}).fetchone())
        if deactivated_ids
        else Deactivated()
    )
    changes = TableChanges(inserted=inserted, updated=updated, deactivated=len(deactivated_ids))
    return changes, moved, sample, kinds
