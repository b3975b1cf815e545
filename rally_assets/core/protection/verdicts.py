"""The verdicts on an import: is the staged league fit to publish (quality, churn breaker), and
did the publish keep what users own (availability untouched, associations preserved, no orphan
references). Each returns a Verdict: passed, the operator's one-line reason, and the measures it
judged. The Dagster checks, the bench and the CLI call these; none writes anything."""

from __future__ import annotations

import psycopg

from rally_assets.core import import_runs
from rally_assets.core.constants import ETL_SCHEMA
from rally_assets.core.file_types import FILE_TYPES
from rally_assets.core.policy import MIN_ROWS_FOR_RATE, ImportLimits, pct
from rally_assets.core.protection.churn_diagnosis import churn_diagnosis
from rally_assets.core.protection.integrity import integrity
from rally_assets.core.protection.snapshots import associations_missing, availability_changes, latest_snapshot
from rally_assets.core.publish.league import publish_league
from rally_assets.core.publish.scope import Scope, landing_scope
from rally_assets.core.publish.series_names import canonical_series_names
from rally_assets.core.users.health import orphan_references
from rally_assets.core.verdict import Verdict

S = ETL_SCHEMA


# --- before the publish -----------------------------------------------------------------------

STAGED_DUPLICATES = {
    "players (id, club, series)": f"""SELECT count(*) FROM (SELECT 1 FROM {S}.stg_players WHERE run_id = %(run)s
        GROUP BY tenniscores_player_id, lower(club), series HAVING count(*) > 1) d""",
    "teams (team key)": f"""SELECT count(*) FROM (SELECT 1 FROM {S}.stg_teams WHERE run_id = %(run)s
        GROUP BY rally_etl.team_key(team_name) HAVING count(*) > 1) d""",
    "matches (match id)": f"""SELECT count(*) FROM (SELECT 1 FROM {S}.stg_matches WHERE run_id = %(run)s
        AND tenniscores_match_id IS NOT NULL GROUP BY tenniscores_match_id HAVING count(*) > 1) d""",
}


def staged_quality(conn: psycopg.Connection, league: str, run_id: str, max_rejected_pct: float) -> dict:
    """Rejection rate per file (files of at least MIN_ROWS_FOR_RATE rows) and natural-key uniqueness."""
    files = import_runs.file_reports(conn, run_id, league)
    reports = [files[t.file] for t in FILE_TYPES if t.file in files]
    rates = {
        f["file"]: pct(f["rejected_total"], f["rows_read"])
        for f in reports
        if f.get("present") and f["rows_read"] >= MIN_ROWS_FOR_RATE
    }
    too_many = {name: rate for name, rate in rates.items() if rate > max_rejected_pct}
    p = {"run": run_id}
    duplicates = {name: conn.execute(sql, p).fetchone()[0] for name, sql in STAGED_DUPLICATES.items()}
    staged = conn.execute(f"SELECT count(*) FROM {S}.stg_players WHERE run_id = %(run)s", p).fetchone()[0]
    return {
        "passed": bool(files) and not too_many and not any(duplicates.values()) and staged > 0,
        "rejected_pct_by_file": rates,
        "files_over_limit": too_many,
        "max_rejected_pct": max_rejected_pct,
        "duplicate_natural_keys": duplicates,
        "players_staged": staged,
    }


def override_hint(setting: str, value: str, flag: str) -> str:
    """How an operator publishes a refused league anyway: the CLI flag and the launchpad config."""
    return (
        f"to publish anyway: rally import {flag}, or in the launchpad "
        f"resources: {{import_policy: {{config: {{{setting}: {value}}}}}}}"
    )


def quality_verdict(conn: psycopg.Connection, league: str, run_id: str, limits: ImportLimits) -> Verdict:
    report = staged_quality(conn, league, run_id, limits.max_rejected_pct)
    passed = report.pop("passed")
    if passed:
        return Verdict(True, "staged data is usable", report)
    problems = []
    if report["files_over_limit"]:
        rates = ", ".join(f"{name} {rate}%" for name, rate in report["files_over_limit"].items())
        problems.append(
            f"files over {limits.max_rejected_pct}% rejected: {rates}; "
            + override_hint("max_rejected_pct", "PCT", "--max-rejected-pct PCT")
        )
    duplicates = {name: n for name, n in report["duplicate_natural_keys"].items() if n}
    if duplicates:
        listed = ", ".join(f"{name} {n}" for name, n in duplicates.items())
        problems.append(f"natural keys repeat in the staged rows ({listed}); no override: the files need fixing")
    if not report["players_staged"]:
        problems.append("no player was staged (every players.json row was rejected)")
    return Verdict(False, "; ".join(problems) or "no parse report for this run", report)


# The league's active players as they stand, and how many of their ids the staged players lack.
# The league's active players inside the scope (a partial scrape: the live series it covers), and how
# many of their ids the staged players lack.
LIVE_PLAYERS = f"""
WITH live AS (
    SELECT p.tenniscores_player_id,
           EXISTS (SELECT 1 FROM user_player_associations a
                   WHERE a.tenniscores_player_id = p.tenniscores_player_id) AS linked
    FROM players p JOIN leagues l ON l.id = p.league_id AND l.league_id = %(league)s
    WHERE p.is_active AND (%(series)s::integer[] IS NULL OR p.series_id = ANY(%(series)s::integer[]))),
staged_ids AS (SELECT DISTINCT tenniscores_player_id FROM {S}.stg_players WHERE run_id = %(run)s)
SELECT (SELECT count(*) FROM live), (SELECT count(*) FROM live WHERE linked),
       (SELECT count(DISTINCT tenniscores_player_id) FROM live),
       (SELECT count(DISTINCT l.tenniscores_player_id) FROM live l
        WHERE NOT EXISTS (SELECT 1 FROM staged_ids s WHERE s.tenniscores_player_id = l.tenniscores_player_id))
"""
LEAGUE_LIVE_SERIES = """
SELECT DISTINCT s.id, s.name FROM players p JOIN leagues l ON l.id = p.league_id AND l.league_id = %(league)s
JOIN series s ON s.id = p.series_id WHERE p.is_active
"""


def _covered_series_ids(conn: psycopg.Connection, league: str, scope: Scope) -> list[int] | None:
    """The live series a partial scrape covers, by id (their names as this import gives them); None: all."""
    if scope.covered_param is None:
        return None
    live = conn.execute(LEAGUE_LIVE_SERIES, {"league": league}).fetchall()
    canonical = canonical_series_names(conn, league, [name for _, name in live])
    covered = set(scope.covered_param)
    return [sid for sid, name in live if canonical[name] in covered]


def churn(conn: psycopg.Connection, league: str, run_id: str, scope: Scope | None = None) -> dict:
    """What the publish would deactivate, by the publish's own identity of a player: a rehearsal of
    the publish (its reference steps, rolled back) counts the players it deactivates, within the
    landing's scope (its covered series; the whole league for a full scrape).

    The shares judged leave out the rows of players who stay active in a series a partial scrape
    does not cover: their row in the covered series goes, the player stays (moved out of it).
    """
    scope = scope or landing_scope(conn, league, run_id)
    series = _covered_series_ids(conn, league, scope)
    p = {"league": league, "run": run_id, "series": series}
    active, linked, ids, ids_gone = conn.execute(LIVE_PLAYERS, p).fetchone()
    if active == 0:
        # no active player in scope (a league's first import): there is nothing to deactivate, and
        # the rehearsal (the publish's reference steps, twice the publish's cost there) is not needed
        gone, linked_gone, moved, moved_linked = 0, 0, 0, 0
    elif conn.execute(f"SELECT 1 FROM {S}.stg_players WHERE run_id = %(run)s LIMIT 1", p).fetchone() is None:
        # nothing staged (an empty players.json): a publish would deactivate every player it judges
        gone, linked_gone, moved, moved_linked = active, linked, 0, 0
    else:
        rehearsal = publish_league(conn, league, run_id, rehearse=True, reference_only=True)
        gone, linked_gone = rehearsal.tables["players"].deactivated, rehearsal.players_deactivated_linked
        moved, moved_linked = rehearsal.players_moved_out, rehearsal.players_moved_out_linked
    return {
        "active_players": active,
        "linked_players": linked,
        "would_deactivate": gone,
        "would_deactivate_linked": linked_gone,
        "deactivated_pct": pct(gone - moved, active),
        "deactivated_linked_pct": pct(linked_gone - moved_linked, linked),
        "player_ids_replaced_pct": pct(ids_gone, ids),
        "moved_out_of_scope": moved,
        "partial_scrape": scope.partial,
        "series_covered": len(scope.covered),
        "series_not_covered": len(scope.not_covered),
    }


def churn_tripped(report: dict, limits: ImportLimits) -> bool:
    """The breaker trips when either share of players the publish would deactivate is over its limit."""
    return (
        report["deactivated_pct"] > limits.max_deactivated_pct
        or report["deactivated_linked_pct"] > limits.max_deactivated_linked_pct
    )


def churn_verdict(
    report: dict, limits: ImportLimits, diagnosis: dict | None = None, scope: Scope | None = None
) -> Verdict:
    """The churn breaker's verdict on a churn report: tripped over either limit; passed when not
    tripped or when the operator overrides it. A tripped breaker's description starts with its
    diagnosis (churn_diagnosis) and says which action fits; a partial scrape says so."""
    tripped = churn_tripped(report, limits)
    measures = {
        **report,
        "override": limits.allow_churn,
        "max_deactivated_pct": limits.max_deactivated_pct,
        "max_deactivated_linked_pct": limits.max_deactivated_linked_pct,
    }
    partial = f"{scope.describe()}; " if scope is not None and scope.partial else ""
    if not tripped:
        return Verdict(True, f"{partial}churn within limits" + (" in the covered series" if partial else ""), measures)
    diagnosis = diagnosis or {"diagnosis": "departures", "reason": "not diagnosed", "action": "look at the measures"}
    if diagnosis["diagnosis"] == "corrupt scrape":
        partial = ""  # the series a corrupt file names say nothing of what it covers
    measures |= {k: v for k, v in diagnosis.items() if k not in ("reason", "action")}
    measures["action"] = diagnosis["action"]
    why = (
        f"{diagnosis['diagnosis']}: {diagnosis['reason']}. {partial}{report['deactivated_pct']}% of active players "
        f"(limit {limits.max_deactivated_pct}%) and {report['deactivated_linked_pct']}% of user-linked players "
        f"(limit {limits.max_deactivated_linked_pct}%) would be deactivated; "
        f"{report['player_ids_replaced_pct']}% of player ids are gone from the import"
        + (
            "; published anyway by operator override (allow_churn), user links carried across"
            if limits.allow_churn
            else f". Action: {diagnosis['action']}"
            + (
                ""
                if diagnosis["diagnosis"] == "corrupt scrape"
                else "; " + override_hint("allow_churn", "true", "--allow-churn")
            )
        )
    )
    return Verdict(limits.allow_churn, why, measures)


def churn_breaker(conn: psycopg.Connection, league: str, run_id: str, limits: ImportLimits) -> Verdict:
    scope = landing_scope(conn, league, run_id)
    report = churn(conn, league, run_id, scope)
    diagnosis = None
    if churn_tripped(report, limits):
        corrupt = sorted({f["finding"] for f in integrity(conn, league, run_id)["findings"]})
        diagnosis = churn_diagnosis(conn, league, run_id, report, scope, corrupt=corrupt)
    return churn_verdict(report, limits, diagnosis, scope)


# --- after the publish ------------------------------------------------------------------------

NO_SNAPSHOT = Verdict(False, "no user-data snapshot was taken in this run")


def availability_verdict(conn: psycopg.Connection, league: str, run_id: str) -> Verdict:
    """No availability row that existed before the publish is gone or was changed by it."""
    snapshot_id = latest_snapshot(conn, run_id, league)
    if snapshot_id is None:
        return NO_SNAPSHOT
    report = availability_changes(conn, snapshot_id, import_xid=import_runs.publish_xid(conn, run_id, league))
    passed = report["lost"] == 0 and report["changed_by_import"] == 0
    why = (
        "availability untouched"
        if passed
        else f"{report['lost']} availability row(s) lost and {report['changed_by_import']} changed without the app"
    )
    return Verdict(passed, why, {**report, "snapshot_id": snapshot_id})


def associations_verdict(conn: psycopg.Connection, league: str, run_id: str) -> Verdict:
    """Every association in the run's snapshot is still there."""
    snapshot_id = latest_snapshot(conn, run_id, league)
    if snapshot_id is None:
        return NO_SNAPSHOT
    report = associations_missing(conn, snapshot_id)
    passed = report["missing"] == 0
    why = "every association preserved" if passed else f"{report['missing']} association(s) disappeared"
    return Verdict(passed, why, {**report, "snapshot_id": snapshot_id})


def orphans_verdict(conn: psycopg.Connection) -> Verdict:
    """No user-owned row points at a league, team, series or player that does not exist (global:
    any league's publish may orphan a reference)."""
    orphans = orphan_references(conn)
    dangling = {k: v for k, v in orphans.items() if v}
    why = "no orphan references" if not dangling else f"dangling references: {dangling}"
    return Verdict(not dangling, why, {**orphans, "total": sum(orphans.values())})
