"""Judging a staged league before it is published: parse quality and the churn breaker.

Both read the staging tables and the live ones; neither writes anything.
"""

from __future__ import annotations

import psycopg

from rally_assets.core.constants import STAGING_SCHEMA

S = STAGING_SCHEMA
MIN_ROWS_FOR_RATE = 50  # a 10-row junk file (CNSWPL's FALLBACK player_history) says nothing about a scrape


def staged_quality(conn: psycopg.Connection, league: str, run_id: str, max_rejected_pct: float) -> dict:
    """Rejection rate per file (files of at least MIN_ROWS_FOR_RATE rows) and natural-key uniqueness."""
    report = conn.execute(
        "SELECT report->'files' FROM etl_import_runs WHERE run_id = %s AND league = %s ORDER BY id DESC LIMIT 1",
        (run_id, league),
    ).fetchone()
    files = (report[0] if report else None) or {}
    rates = {
        name: round(100.0 * f["rejected_total"] / f["rows_read"], 2)
        for name, f in files.items()
        if f.get("present") and f["rows_read"] >= MIN_ROWS_FOR_RATE
    }
    too_many = {name: pct for name, pct in rates.items() if pct > max_rejected_pct}
    p = {"run": run_id}
    duplicates = {
        "players (id, club, series)": conn.execute(
            f"""SELECT count(*) FROM (SELECT 1 FROM {S}.stg_players WHERE run_id = %(run)s
                GROUP BY tenniscores_player_id, lower(club), series HAVING count(*) > 1) d""",
            p,
        ).fetchone()[0],
        "teams (team key)": conn.execute(
            f"""SELECT count(*) FROM (SELECT 1 FROM {S}.stg_teams WHERE run_id = %(run)s
                GROUP BY rally_team_key(team_name) HAVING count(*) > 1) d""",
            p,
        ).fetchone()[0],
        "matches (match id)": conn.execute(
            f"""SELECT count(*) FROM (SELECT 1 FROM {S}.stg_matches WHERE run_id = %(run)s
                AND tenniscores_match_id IS NOT NULL GROUP BY tenniscores_match_id HAVING count(*) > 1) d""",
            p,
        ).fetchone()[0],
    }
    staged = conn.execute(f"SELECT count(*) FROM {S}.stg_players WHERE run_id = %(run)s", p).fetchone()[0]
    passed = bool(files) and not too_many and not any(duplicates.values()) and staged > 0
    return {
        "passed": passed,
        "rejected_pct_by_file": rates,
        "files_over_limit": too_many,
        "max_rejected_pct": max_rejected_pct,
        "duplicate_natural_keys": duplicates,
        "players_staged": staged,
    }


def churn(conn: psycopg.Connection, league: str, run_id: str) -> dict:
    """What the publish would deactivate: live active players of the league whose natural key is not staged."""
    row = conn.execute(
        f"""WITH live AS (
                SELECT p.tenniscores_player_id, lower(c.name) AS club, s.name AS series,
                       EXISTS (SELECT 1 FROM user_player_associations a
                               WHERE a.tenniscores_player_id = p.tenniscores_player_id) AS linked
                FROM players p JOIN leagues l ON l.id = p.league_id AND l.league_id = %(league)s
                JOIN clubs c ON c.id = p.club_id JOIN series s ON s.id = p.series_id
                WHERE p.is_active),
            staged AS (
                SELECT DISTINCT tenniscores_player_id, lower(club) AS club, series
                FROM {S}.stg_players WHERE run_id = %(run)s),
            staged_ids AS (SELECT DISTINCT tenniscores_player_id FROM staged),
            gone AS (
                SELECT live.* FROM live WHERE NOT EXISTS (
                    SELECT 1 FROM staged s WHERE (s.tenniscores_player_id, s.club, s.series)
                                               = (live.tenniscores_player_id, live.club, live.series)))
        SELECT (SELECT count(*) FROM live), (SELECT count(*) FROM live WHERE linked),
               (SELECT count(*) FROM gone), (SELECT count(*) FROM gone WHERE linked),
               (SELECT count(DISTINCT tenniscores_player_id) FROM live),
               (SELECT count(DISTINCT l.tenniscores_player_id) FROM live l
                WHERE NOT EXISTS (SELECT 1 FROM staged_ids s WHERE s.tenniscores_player_id = l.tenniscores_player_id))""",
        {"league": league, "run": run_id},
    ).fetchone()
    active, linked, gone, gone_linked, ids, ids_gone = row
    pct = lambda part, whole: 0.0 if whole == 0 else round(100.0 * part / whole, 2)  # noqa: E731
    return {
        "active_players": active,
        "linked_players": linked,
        "would_deactivate": gone,
        "would_deactivate_linked": gone_linked,
        "deactivated_pct": pct(gone, active),
        "deactivated_linked_pct": pct(gone_linked, linked),
        "player_ids_replaced_pct": pct(ids_gone, ids),
    }
