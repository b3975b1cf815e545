"""The one module that reads and writes `rally_etl.import_runs`: a row per (run, league), its status
(staged -> published | failed) and its report (the parse report per file, then the publish's)."""

from __future__ import annotations

import psycopg
from psycopg.types.json import Jsonb

from rally_assets.core import policy
from rally_assets.core.publish.report import PublishReport

RECORD_STAGED = """
INSERT INTO rally_etl.import_runs (run_id, league, status, report) VALUES (%(run)s, %(league)s, 'staged', %(report)s)
"""

RECORD_PUBLISHED = """
UPDATE rally_etl.import_runs SET status = 'published', finished_at = now(),
       report = coalesce(report, '{}'::jsonb) || jsonb_build_object('publish', %(publish)s::jsonb)
WHERE run_id = %(run)s AND league = %(league)s
"""

RECORD_FAILED = """
UPDATE rally_etl.import_runs SET status = 'failed', finished_at = now(),
       report = coalesce(report, '{}'::jsonb) || jsonb_build_object('error', %(reason)s::text)
WHERE run_id = %(run)s AND league = %(league)s AND status <> 'published'
"""

# Runs staged longer ago than this that never published: their staged rows are swept.
STALE_RUNS = (
    f"SELECT run_id FROM rally_etl.import_runs WHERE started_at < now() - interval '{policy.STAGED_STALE_AFTER}'"
)


def record_staged(conn: psycopg.Connection, run_id: str, league: str, report: dict) -> None:
    conn.execute(RECORD_STAGED, {"run": run_id, "league": league, "report": Jsonb(report)})


def record_published(conn: psycopg.Connection, run_id: str, league: str, publish: dict) -> None:
    """Inside the publish transaction: the run is published, with what the publish changed."""
    conn.execute(RECORD_PUBLISHED, {"run": run_id, "league": league, "publish": Jsonb(publish)})


def record_failed(conn: psycopg.Connection, run_id: str, league: str, reason: str) -> None:
    """A run that did not publish, with the reason (a published run stays published)."""
    with conn.transaction():
        conn.execute(RECORD_FAILED, {"run": run_id, "league": league, "reason": reason})


def _report_field(conn: psycopg.Connection, run_id: str, league: str, *path: str):
    row = conn.execute(
        "SELECT report #> %(path)s FROM rally_etl.import_runs WHERE run_id = %(run)s AND league = %(league)s "
        "ORDER BY id DESC LIMIT 1",
        {"run": run_id, "league": league, "path": list(path)},
    ).fetchone()
    return row[0] if row else None


def file_reports(conn: psycopg.Connection, run_id: str, league: str) -> dict[str, dict]:
    """The parse report of each landing file of the run (file name -> report); {} if none."""
    return _report_field(conn, run_id, league, "files") or {}


def files_present(conn: psycopg.Connection, run_id: str, league: str) -> set[str]:
    """The landing files the run's folder held."""
    return {name for name, report in file_reports(conn, run_id, league).items() if report.get("present", True)}


def publish_xid(conn: psycopg.Connection, run_id: str, league: str) -> int | None:
    """The transaction id of the run's publish: a row it wrote carries it as xmin. None if it did not publish."""
    xid = _report_field(conn, run_id, league, "publish", "xid")
    return None if xid is None else int(xid)


def publish_report(conn: psycopg.Connection, run_id: str, league: str) -> PublishReport | None:
    """What the run's publish changed (a PublishReport), or None if it did not publish."""
    data = _report_field(conn, run_id, league, "publish")
    return None if data is None else PublishReport.from_json(data)


PUBLISHED_RUNS = "SELECT count(*), max(finished_at) FROM rally_etl.import_runs WHERE upper(league) = %(league)s AND status = 'published'"


def published_runs(conn: psycopg.Connection, league: str) -> tuple[int, object]:
    """How many runs published `league`, and when the last one finished (None if none did)."""
    count, last = conn.execute(PUBLISHED_RUNS, {"league": league.upper()}).fetchone()
    return count, last
