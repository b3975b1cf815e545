"""Is the staged league a sound scrape? The scrape_integrity verdict (blocking, before the publish).

A corrupt scrape parses: its rows are well-formed, only wrong together. Each finding names the
file, the measure, the limit and the rows it saw (real cases in data/rally_history_sample):

- players.json is empty (CNSWPL 2025-08-06): importing it would deactivate the league;
- player ids missing on most rows (APTA 2025-09-21: 7,537 of 7,551 rows);
- the series collapsed (CNSWPL 2025-08-10): the rows' Series disagrees with their own
  `Series Mapping ID` for most rows, or one series holds most of a league that had many;
- club names truncated (the same landing: `Lake`, `Michigan`, `Park` for the league's
  `Lake Forest`, `Michigan Shores`, `Park Ridge`).

The churn breaker reads the same verdict: "id-scheme change" is said only of a sound file.
"""

from __future__ import annotations

import psycopg

from rally_assets.core import import_runs, policy
from rally_assets.core.constants import ETL_SCHEMA
from rally_assets.core.parsing.normalize import base_series
from rally_assets.core.parsing.players import SERIES_MAPPING_CHECKED, SERIES_MAPPING_DISAGREES
from rally_assets.core.policy import pct
from rally_assets.core.verdict import Verdict

S = ETL_SCHEMA
PLAYERS = "players.json"

# Series are counted as the league's series: a club's sub-teams' sub-series ('Series 14a') count as theirs.
STAGED_SERIES = f"""
SELECT array_agg(DISTINCT series) FILTER (WHERE series IS NOT NULL), count(DISTINCT tenniscores_player_id)
FROM {S}.stg_players WHERE run_id = %(run)s
"""
LIVE_SERIES = """
SELECT array_agg(DISTINCT s.name), count(DISTINCT p.tenniscores_player_id)
FROM players p JOIN leagues l ON l.id = p.league_id AND l.league_id = %(league)s
JOIN series s ON s.id = p.series_id WHERE p.is_active
"""


def _league_series(names: list[str] | None) -> list[str]:
    return sorted({base_series(n) for n in names or []})


# Staged clubs the league does not know that are the first word(s) of clubs it knows ('Lake' for
# 'Lake Forest'), with the rows naming them.
TRUNCATED_CLUBS = f"""
WITH known AS (
    SELECT DISTINCT lower(c.name) AS name_key, c.name FROM clubs c
    JOIN club_leagues cl ON cl.club_id = c.id JOIN leagues l ON l.id = cl.league_id AND l.league_id = %(league)s),
staged AS (SELECT club, count(*) AS n FROM {S}.stg_players WHERE run_id = %(run)s GROUP BY club)
SELECT s.club, s.n, array_agg(k.name ORDER BY k.name)
FROM staged s JOIN known k ON left(k.name_key, length(s.club) + 1) = lower(s.club) || ' '
WHERE NOT EXISTS (SELECT 1 FROM known k2 WHERE k2.name_key = lower(s.club))
GROUP BY s.club, s.n ORDER BY s.n DESC, s.club
"""


def _finding(name: str, rows: int, of: int, limit: float, detail: str) -> dict:
    return {"finding": name, "rows": rows, "of": of, "pct": pct(rows, of), "limit_pct": limit, "detail": detail}


def _over(rows: int, of: int, limit: float) -> bool:
    return of >= policy.MIN_ROWS_FOR_RATE and rows * 100 > limit * of


def _file_findings(players: dict, live_ids: int) -> list[dict]:
    """What players.json's own parse report shows: empty, ids missing, Series against Series Mapping ID."""
    read = players.get("rows_read", 0)
    if read == 0:
        detail = (
            f"(limit: at least 1 row): importing it would deactivate every active player of the league ({live_ids})"
        )
        return [{"finding": "empty", "rows": 0, "of": 0, "pct": 0.0, "limit_pct": None, "detail": detail}]
    found = []
    missing = players.get("rejected", {}).get("missing_player_id", 0)
    if _over(missing, read, policy.MAX_MISSING_PLAYER_ID_PCT):
        found.append(
            _finding("player ids missing", missing, read, policy.MAX_MISSING_PLAYER_ID_PCT, "rows have no Player ID")
        )
    notes = players.get("notes", {})
    checked, disagree = notes.get(SERIES_MAPPING_CHECKED, 0), notes.get(SERIES_MAPPING_DISAGREES, 0)
    if _over(disagree, checked, policy.MAX_SERIES_MAPPING_DISAGREES_PCT):
        found.append(
            _finding(
                "series collapsed",
                disagree,
                checked,
                policy.MAX_SERIES_MAPPING_DISAGREES_PCT,
                "rows give a Series that their own Series Mapping ID contradicts",
            )
        )
    return found


def _collapse_finding(conn: psycopg.Connection, p: dict, live_series: int, live_ids: int) -> tuple[dict | None, dict]:
    """One series holding most of a league that had many (judged against the live league)."""
    names, staged_ids = conn.execute(STAGED_SERIES, p).fetchone()
    series = _league_series(names)
    staged_series, only = len(series), (series[0] if series else None)
    measures = {"series_staged": staged_series, "player_ids_staged": staged_ids}
    if (
        staged_series == 1
        and live_series >= policy.SERIES_COLLAPSE_MIN_LEAGUE_SERIES
        and staged_ids * 100 >= policy.SERIES_COLLAPSE_MIN_PLAYERS_PCT * live_ids
    ):
        detail = f"players sit in one series ({only}) where the league had {live_series}"
        return _finding(
            "series collapsed", staged_ids, live_ids, policy.SERIES_COLLAPSE_MIN_PLAYERS_PCT, detail
        ), measures
    return None, measures


def _truncation_finding(conn: psycopg.Connection, p: dict, staged_rows: int) -> tuple[dict | None, dict]:
    clubs = conn.execute(TRUNCATED_CLUBS, p).fetchall()
    rows = sum(n for _club, n, _known in clubs)
    listed = {club: known for club, _n, known in clubs[: policy.TRUNCATED_CLUBS_LISTED]}
    measures = {"truncated_club_rows": rows, "truncated_clubs": listed}
    if not _over(rows, staged_rows, policy.MAX_TRUNCATED_CLUB_PCT):
        return None, measures
    shown = ", ".join(f"{club} -> {'/'.join(known)}" for club, known in listed.items())
    detail = f"rows name a club that is the first word(s) of a known club of the league ({shown})"
    return _finding("club names truncated", rows, staged_rows, policy.MAX_TRUNCATED_CLUB_PCT, detail), measures


def integrity(conn: psycopg.Connection, league: str, run_id: str) -> dict:
    """The findings on the staged league (none: a sound scrape) and the measures behind them."""
    p = {"league": league, "run": run_id}
    players = import_runs.file_reports(conn, run_id, league).get(PLAYERS, {})
    staged_rows = conn.execute(f"SELECT count(*) FROM {S}.stg_players WHERE run_id = %(run)s", p).fetchone()[0]
    live_names, live_ids = conn.execute(LIVE_SERIES, p).fetchone()
    live_series = len(_league_series(live_names))
    findings = _file_findings(players, live_ids)
    measures: dict = {
        "file": f"{league}/{PLAYERS}",
        "rows_read": players.get("rows_read", 0),
        "rows_staged": staged_rows,
        "league_series": live_series,
        "league_player_ids": live_ids,
    }
    if staged_rows:
        collapse, collapse_measures = _collapse_finding(conn, p, live_series, live_ids)
        truncation, truncation_measures = _truncation_finding(conn, p, staged_rows)
        findings += [f for f in (collapse, truncation) if f]
        measures |= collapse_measures | truncation_measures
    return {**measures, "findings": findings}


def describe_findings(file: str, findings: list[dict]) -> str:
    """'corrupt scrape: <file>: <finding> - <rows> of <of> (<pct>%, limit <limit>%) <detail>; ...'"""
    parts = [
        f"{f['finding']}: 0 rows {f['detail']}"
        if f["finding"] == "empty"
        else f"{f['finding']}: {f['rows']} of {f['of']} ({f['pct']}%, limit {f['limit_pct']}%) {f['detail']}"
        for f in findings
    ]
    return f"corrupt scrape: {file}: " + "; ".join(parts)


def integrity_verdict(conn: psycopg.Connection, league: str, run_id: str, limits: policy.ImportLimits) -> Verdict:
    """Refuses a corrupt scrape. Not overridable (allow_churn overrides the churn breaker only)."""
    report = integrity(conn, league, run_id)
    findings = report["findings"]
    if not findings:
        return Verdict(True, "a sound scrape: ids, series and club names as the league knows them", report)
    why = describe_findings(report["file"], findings) + "; not importable: fix the scrape, then land it again"
    return Verdict(False, why, {**report, "diagnosis": sorted({f["finding"] for f in findings})})
