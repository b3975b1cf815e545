"""Why the churn breaker trips: what the rows the publish would deactivate have become.

The breaker (verdicts.churn) measures how many of the league's active players, inside the
landing's scope, the publish would deactivate. This module looks at those rows against the staged
landing and says which of four things it sees, and which action fits:

- id-scheme change: most player ids are gone and the departed players reappear under new ids with
  the same name, club and series (the matched share is given). Said only of a sound file
  (integrity.py): on a corrupt one the same picture is a corrupt scrape, never to be overridden.
- naming drift: the departed rows' player ids are still in the landing, under another club or
  series name (same ids, different names).
- departures: the players are gone and nobody replaces them.
- partial: the landing covers only some of the league's series; the breaker judged within them
  (said of a partial scrape that passes, and beside the diagnosis of one that trips).

It takes the churn measures plus what it needs from staging and live tables; it decides nothing
about whether the breaker trips (verdicts.churn_tripped does).
"""

from __future__ import annotations

import psycopg

from rally_assets.core import policy
from rally_assets.core.constants import ETL_SCHEMA
from rally_assets.core.policy import pct
from rally_assets.core.publish.scope import Scope

S = ETL_SCHEMA

# The rows the publish would deactivate (inside the scope, not moved out of it), split by what the
# landing says of their player: same id under another name, or a new id with the same name.
DIAGNOSIS = f"""
WITH league_players AS (
    SELECT p.tenniscores_player_id AS pid, lower(btrim(p.first_name)) AS fn, lower(btrim(p.last_name)) AS ln,
           lower(c.name) AS club, s.name AS series, p.is_active
    FROM players p JOIN leagues l ON l.id = p.league_id AND l.league_id = %(league)s
    JOIN clubs c ON c.id = p.club_id JOIN series s ON s.id = p.series_id),
live AS (SELECT * FROM league_players
         WHERE is_active AND (%(covered)s::text[] IS NULL OR series = ANY(%(covered)s::text[]))),
elsewhere AS (SELECT DISTINCT pid FROM league_players
              WHERE is_active AND %(covered)s::text[] IS NOT NULL AND NOT series = ANY(%(covered)s::text[])),
staged AS (
    SELECT DISTINCT tenniscores_player_id AS pid, lower(btrim(first_name)) AS fn, lower(btrim(last_name)) AS ln,
           lower(club) AS club, series
    FROM {S}.stg_players WHERE run_id = %(run)s),
new_ids AS (SELECT * FROM staged s WHERE NOT EXISTS (SELECT 1 FROM league_players o WHERE o.pid = s.pid)),
gone AS (
    SELECT g.*, EXISTS (SELECT 1 FROM staged s WHERE s.pid = g.pid) AS same_id FROM live g
    WHERE NOT EXISTS (SELECT 1 FROM staged s WHERE (s.pid, s.club, s.series) = (g.pid, g.club, g.series))
      AND NOT EXISTS (SELECT 1 FROM elsewhere e WHERE e.pid = g.pid))
SELECT count(*), count(*) FILTER (WHERE same_id),
       count(*) FILTER (WHERE NOT same_id AND EXISTS (
           SELECT 1 FROM new_ids n WHERE (n.fn, n.ln, n.club, n.series) = (g.fn, g.ln, g.club, g.series))),
       count(*) FILTER (WHERE NOT same_id AND EXISTS (SELECT 1 FROM new_ids n WHERE (n.fn, n.ln) = (g.fn, g.ln))),
       (SELECT count(*) FROM new_ids)
FROM gone g
"""
# The most frequent renamings of the same ids: (club, series) before -> after.
RENAMINGS = f"""
WITH live AS (
    SELECT p.tenniscores_player_id AS pid, c.name AS club, s.name AS series
    FROM players p JOIN leagues l ON l.id = p.league_id AND l.league_id = %(league)s
    JOIN clubs c ON c.id = p.club_id JOIN series s ON s.id = p.series_id
    WHERE p.is_active AND (%(covered)s::text[] IS NULL OR s.name = ANY(%(covered)s::text[]))),
staged AS (SELECT DISTINCT tenniscores_player_id AS pid, club, series FROM {S}.stg_players WHERE run_id = %(run)s)
SELECT o.club || ' / ' || o.series, n.club || ' / ' || n.series, count(*)
FROM live o JOIN staged n ON n.pid = o.pid
WHERE NOT EXISTS (SELECT 1 FROM staged k WHERE (k.pid, lower(k.club), k.series) = (o.pid, lower(o.club), o.series))
GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2 LIMIT 3
"""


def churn_diagnosis(
    conn: psycopg.Connection, league: str, run_id: str, churn: dict, scope: Scope, corrupt: list[str]
) -> dict:
    """The diagnosis of a churn report: {"diagnosis", "reason", "action", measures...}. `corrupt`:
    what scrape_integrity found wrong with the file (empty: a sound file)."""
    p = {"league": league, "run": run_id, "covered": scope.covered_param}
    gone, same_id, matched, matched_by_name, new_ids = conn.execute(DIAGNOSIS, p).fetchone()
    departed = gone - same_id
    measures = {
        "gone_rows": gone,
        "gone_same_id": same_id,
        "gone_same_id_pct": pct(same_id, gone),
        "departed": departed,
        "departed_matched": matched,
        "departed_matched_pct": pct(matched, departed),
        "departed_matched_by_name": matched_by_name,
        "new_ids": new_ids,
    }
    replaced = churn["player_ids_replaced_pct"] >= policy.ID_SCHEME_CHANGE_PCT
    looks_like_new_ids = replaced and matched * 100 >= policy.ID_SCHEME_MATCHED_PCT * max(departed, 1)
    if corrupt:
        return {**measures, **_corrupt(measures, corrupt)}
    if looks_like_new_ids:
        return {**measures, **_id_scheme_change(measures, churn)}
    if same_id * 100 >= policy.NAMING_DRIFT_PCT * max(gone, 1):
        renamed = [f"{a} -> {b} ({n})" for a, b, n in conn.execute(RENAMINGS, p).fetchall()]
        return {**measures, "renamed_sample": renamed, **_naming_drift(measures, renamed)}
    return {**measures, **_departures(measures)}


def _corrupt(m: dict, corrupt: list[str]) -> dict:
    return {
        "diagnosis": "corrupt scrape",
        "reason": (
            f"players.json fails scrape_integrity ({', '.join(corrupt)}), so whether its ids replace the league's "
            f"cannot be told: {m['departed']} players are gone, {m['departed_matched']} of them match a new id by "
            f"name, club and series and {m['departed_matched_by_name']} by name alone"
        ),
        "action": "do not override (allow_churn would publish a corrupt file); wait for a sound scrape",
    }


def _id_scheme_change(m: dict, churn: dict) -> dict:
    return {
        "diagnosis": "id-scheme change",
        "reason": (
            f"{churn['player_ids_replaced_pct']}% of player ids are gone and {m['departed_matched']} of the "
            f"{m['departed']} departed players ({m['departed_matched_pct']}%) match one of {m['new_ids']} new ids "
            "by name, club and series"
        ),
        "action": "override with allow_churn (rally import --allow-churn): user links are carried to the new ids",
    }


def _naming_drift(m: dict, renamed: list[str]) -> dict:
    return {
        "diagnosis": "naming drift",
        "reason": (
            f"{m['gone_same_id']} of the {m['gone_rows']} rows the publish would deactivate ({m['gone_same_id_pct']}%) "
            f"keep their player id under another club or series name (e.g. {'; '.join(renamed) or 'n/a'})"
        ),
        "action": (
            "if the new names are right, override with allow_churn (user links stay: same ids); "
            "if they are a scraper's drift, fix the name normalisation and import again"
        ),
    }


def _departures(m: dict) -> dict:
    again = (
        f"only {m['departed_matched']} of them ({m['departed_matched_pct']}%) reappear"
        if m["departed_matched"]
        else "none of them reappears"
    )
    return {
        "diagnosis": "departures",
        "reason": f"{m['departed']} players are gone and {again} under a new id with the same name, club and series",
        "action": "if the league really lost them, override with allow_churn; if the scrape missed them, rescrape",
    }
