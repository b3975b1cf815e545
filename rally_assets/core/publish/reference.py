"""The reference tables, upserted by natural key: leagues (string id), clubs (name, any case),
series (league + name), teams (league + team key), players (player id, league, club, series).
A row whose values did not change is not touched at all (no new xmin), so ids never move."""

from __future__ import annotations

import psycopg

from rally_assets.core.constants import KNOWN_LEAGUES
from rally_assets.core.publish.report import TableChanges
from rally_assets.core.publish.scope import SCOPE_TABLE, in_scope
from rally_assets.core.publish.steps import S, count, inserted_and_updated, run, temp_table

INSERT_LEAGUE = """
INSERT INTO leagues (league_id, league_name, league_url) VALUES (%(league)s, %(name)s, %(url)s)
ON CONFLICT (league_id) DO NOTHING RETURNING id
"""

# Clubs are global and matched case-insensitively ('LifeSport' is 'Lifesport').
STAGED_CLUB_NAMES = f"""
SELECT DISTINCT ON (lower(name)) name FROM (
    SELECT club AS name FROM {S}.stg_players WHERE run_id = %(run)s
    UNION ALL SELECT club FROM {S}.stg_teams WHERE run_id = %(run)s) s
WHERE name IS NOT NULL ORDER BY lower(name), name
"""
INSERT_CLUBS = """
INSERT INTO clubs (name) SELECT n.name FROM pub_club_names n
WHERE NOT EXISTS (SELECT 1 FROM clubs c WHERE lower(c.name) = lower(n.name))
ON CONFLICT (name) DO NOTHING RETURNING id
"""
CLUB_IDS = """
SELECT DISTINCT ON (lower(c.name)) lower(c.name) AS name_key, c.id
FROM clubs c JOIN pub_club_names n ON lower(c.name) = lower(n.name) ORDER BY lower(c.name), c.id
"""
LINK_CLUBS = """
INSERT INTO club_leagues (club_id, league_id) SELECT id, %(lid)s FROM pub_clubs
ON CONFLICT (club_id, league_id) DO NOTHING
"""
# display_name is set once, on insert: the app may rename it and an import never resets it.
# A partial scrape adds no series it does not cover (%(covered)s; NULL for a full scrape).
INSERT_SERIES = f"""
INSERT INTO series (name, display_name, league_id)
SELECT DISTINCT series, series, %(lid)s::integer FROM (
    SELECT series FROM {S}.stg_players WHERE run_id = %(run)s
    UNION SELECT series FROM {S}.stg_teams WHERE run_id = %(run)s) s
WHERE series IS NOT NULL AND (%(covered)s::text[] IS NULL OR series = ANY(%(covered)s::text[]))
ON CONFLICT (league_id, name) DO NOTHING RETURNING id
"""
LINK_SERIES = """
INSERT INTO series_leagues (series_id, league_id) SELECT id, league_id FROM series WHERE league_id = %(lid)s
ON CONFLICT (series_id, league_id) DO NOTHING
"""

STAGED_TEAMS = f"""
SELECT DISTINCT ON (rally_team_key(t.team_name)) t.team_name, rally_team_key(t.team_name) AS team_key,
       c.id AS club_id, s.id AS series_id
FROM {S}.stg_teams t
JOIN pub_clubs c ON c.name_key = lower(t.club)
JOIN series s ON s.league_id = %(lid)s AND s.name = t.series
WHERE t.run_id = %(run)s AND {in_scope("s.id")} ORDER BY rally_team_key(t.team_name), t.team_name
"""
# A known team keeps its id and its name; only its club/series/active flag follow the import.
UPSERT_TEAMS = """
INSERT INTO teams (club_id, series_id, league_id, team_name, display_name, is_active)
SELECT club_id, series_id, %(lid)s, team_name, team_name, true FROM pub_teams
ON CONFLICT (league_id, team_key) DO UPDATE
    SET club_id = EXCLUDED.club_id, series_id = EXCLUDED.series_id, is_active = true, updated_at = now()
    WHERE (teams.club_id, teams.series_id, teams.is_active)
          IS DISTINCT FROM (EXCLUDED.club_id, EXCLUDED.series_id, true)
RETURNING (xmax = 0) AS inserted
"""
DEACTIVATE_TEAMS = f"""
UPDATE teams SET is_active = false, updated_at = now()
WHERE league_id = %(lid)s AND is_active IS NOT FALSE AND {in_scope("teams.series_id")}
  AND NOT EXISTS (SELECT 1 FROM pub_teams n WHERE n.team_key = teams.team_key) RETURNING id
"""
# Every team name the run mentions -> its team id, the key computed once per distinct name:
# rally_team_key() is two regular expressions, and the joins of the facts would run it per row.
TEAM_IDS_BY_NAME = f"""
SELECT n.name, t.id AS team_id, t.series_id FROM (
    SELECT team_name AS name FROM {S}.stg_players WHERE run_id = %(run)s
    UNION SELECT home_team FROM {S}.stg_matches WHERE run_id = %(run)s
    UNION SELECT away_team FROM {S}.stg_matches WHERE run_id = %(run)s
    UNION SELECT home_team FROM {S}.stg_schedule WHERE run_id = %(run)s
    UNION SELECT away_team FROM {S}.stg_schedule WHERE run_id = %(run)s
    UNION SELECT team FROM {S}.stg_series_stats WHERE run_id = %(run)s) n
JOIN teams t ON t.league_id = %(lid)s AND t.team_key = rally_team_key(n.name)
"""


def upsert_league(conn: psycopg.Connection, p: dict) -> tuple[int, TableChanges]:
    name, url = KNOWN_LEAGUES.get(p["league"], (p["league"], None))
    inserted = count(conn, INSERT_LEAGUE, {**p, "name": name, "url": url})
    league_id = run(conn, "SELECT id FROM leagues WHERE league_id = %(league)s", p).fetchone()[0]
    return league_id, TableChanges(inserted=inserted)


def upsert_clubs_and_series(conn: psycopg.Connection, p: dict) -> tuple[TableChanges, TableChanges]:
    """Clubs and series; then the publish's scope (pub_scope: the covered series, or the whole league)."""
    temp_table(conn, "pub_club_names", STAGED_CLUB_NAMES, p)
    clubs_added = count(conn, INSERT_CLUBS, p)
    temp_table(conn, "pub_clubs", CLUB_IDS)
    run(conn, LINK_CLUBS, p)
    series_added = count(conn, INSERT_SERIES, p)
    run(conn, LINK_SERIES, p)
    run(conn, SCOPE_TABLE, p)
    return TableChanges(inserted=clubs_added), TableChanges(inserted=series_added)


def upsert_teams(conn: psycopg.Connection, p: dict) -> TableChanges:
    temp_table(conn, "pub_teams", STAGED_TEAMS, p)
    inserted, updated = inserted_and_updated(run(conn, UPSERT_TEAMS, p).fetchall())
    deactivated = count(conn, DEACTIVATE_TEAMS, p)
    temp_table(conn, "pub_team_ids", TEAM_IDS_BY_NAME, p)
    return TableChanges(inserted=inserted, updated=updated, deactivated=deactivated)
