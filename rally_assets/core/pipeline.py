"""One league's import, stage by stage, as plain functions: the Dagster assets each call one
stage, the checks one verdict, and `import_league` runs them in the same order for callers
outside Dagster (the bench, the tests). The stages and the verdicts live here once."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from rally_assets.core import db, policy
from rally_assets.core.errors import InputError
from rally_assets.core.import_runs import record_failed
from rally_assets.core.parsing.league import ParsedLeague, parse_league
from rally_assets.core.parsing.reading import find_leagues, league_code
from rally_assets.core.protection import integrity, verdicts
from rally_assets.core.protection.snapshots import take_snapshot
from rally_assets.core.publish.league import publish_league
from rally_assets.core.publish.report import PublishReport
from rally_assets.core.staging import clear_run, stage_league
from rally_assets.core.users import health
from rally_assets.core.users.contexts import fix_league_contexts
from rally_assets.core.users.repairs import discover
from rally_assets.core.verdict import Verdict
from rally_assets.tooling.faults import checkpoint

# Verdicts on the staged league that block its publish, by check name: fn(conn, league, run_id, limits).
# In this order: the first that fails is the operator's one-line reason (a corrupt scrape also
# fails the quality check and trips the breaker; its diagnosis is the reason).
BLOCKING_VERDICTS: dict[str, Callable[..., Verdict]] = {
    "scrape_integrity": integrity.integrity_verdict,
    "staged_data_quality": verdicts.quality_verdict,
    "churn_breaker": verdicts.churn_breaker,
}
# Verdicts after the publish, by check name: fn(conn, league, run_id).
PUBLISHED_VERDICTS: dict[str, Callable[..., Verdict]] = {
    "availability_untouched": verdicts.availability_verdict,
    "associations_preserved": verdicts.associations_verdict,
    "no_orphan_references": lambda conn, _league, _run_id: verdicts.orphans_verdict(conn),
}
# Verdicts on user data after the whole import (and between imports), by check name: fn(conn).
HEALTH_VERDICTS: dict[str, Callable[[psycopg.Connection], Verdict]] = {
    "league_context_health_check": health.league_context_verdict,
    "availability_user_id_check": health.availability_user_id_verdict,
}

Timer = Callable[[str], contextlib.AbstractContextManager]


@contextlib.contextmanager
def _untimed(_stage: str) -> Iterator[None]:
    yield


@dataclass
class LeagueImport:
    """What `import_league` did with one league folder."""

    league: str
    run_id: str
    verdicts: dict[str, Verdict] = field(default_factory=dict)
    blocked_by: str | None = None  # the blocking verdict that stopped the publish
    publish: PublishReport | None = None


def judge(conn: psycopg.Connection, league: str, run_id: str, limits: policy.ImportLimits) -> dict[str, Verdict]:
    return {name: verdict(conn, league, run_id, limits) for name, verdict in BLOCKING_VERDICTS.items()}


def verify(conn: psycopg.Connection, league: str, run_id: str) -> dict[str, Verdict]:
    checkpoint("checks")
    return {name: verdict(conn, league, run_id) for name, verdict in PUBLISHED_VERDICTS.items()}


def refusal(verdicts: dict[str, Verdict]) -> str | None:
    """The gate verdict that refuses the publish: the first failed one in gate order (its diagnosis)."""
    return next((name for name, v in verdicts.items() if not v.passed), None)


def refusal_line(league: str, verdicts: dict[str, Verdict]) -> str:
    name = refusal(verdicts)
    return f"{league} not published, refused by {name}: {verdicts[name].description}"


def league_stages(
    conn: psycopg.Connection,
    parsed: ParsedLeague,
    run_id: str,
    *,
    limits: policy.ImportLimits = policy.ImportLimits(),  # noqa: B008 - frozen, shared safely
    snapshot_keep: int = policy.SNAPSHOT_KEEP,
    timer: Timer = _untimed,
    on_step: Callable[[str], None] | None = None,
    url: str | None = None,
) -> Iterator[tuple[str, object]]:
    """One league's import after its parse, in the one order every caller follows (the Dagster asset,
    `rally import`'s run, the bench): yields each stage's result as it is done, for the caller to report.

    ("staged", staged counts) -> ("judged", the gate verdicts) -> unless a gate refused (its staged rows
    are then cleared and nothing more happens): ("snapshot", the snapshot) -> ("published", the report).
    A publish that fails is recorded as failed in the runs table (on a fresh connection to `url`, the
    database `conn` is on: this connection may be gone) and raised.
    """
    league = parsed.league
    with timer("stage"):
        staged = stage_league(conn, parsed, run_id)
    del parsed  # the frames are staged: this generator no longer keeps them alive
    yield "staged", staged
    with timer("checks"):
        gate = judge(conn, league, run_id, limits)
    yield "judged", gate
    if refusal(gate):
        clear_run(conn, run_id)
        return
    with timer("snapshot"):
        snapshot = take_snapshot(conn, run_id, league, keep=snapshot_keep)
    yield "snapshot", snapshot
    try:
        with timer("publish"):
            report = publish_league(conn, league, run_id, carry_user_links=limits.allow_churn, on_step=on_step)
    except Exception as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        with contextlib.suppress(Exception), db.connection(url) as fresh:
            record_failed(fresh, run_id, league, reason)  # best effort: the failure itself is what counts
        raise
    yield "published", report


def import_league(
    conn: psycopg.Connection,
    folder: Path,
    run_id: str,
    *,
    landing_root: Path | None = None,
    limits: policy.ImportLimits = policy.ImportLimits(),  # noqa: B008 - frozen, shared safely
    snapshot_keep: int = policy.SNAPSHOT_KEEP,
    timer: Timer = _untimed,
    on_parsed: Callable[[ParsedLeague], None] | None = None,
    on_step: Callable[[str], None] | None = None,
    url: str | None = None,
    parse: Callable[..., ParsedLeague] = parse_league,
) -> LeagueImport:
    """Parse, then `league_stages`, then the after-publish verdicts: what import_league_job runs.

    `timer(stage)` wraps each stage ("parse", "stage", "checks", "snapshot", "publish"); `on_parsed`
    sees the parsed frames before staging; `on_step` each publish step; `parse` is parse_league, or
    `ahead.parsed` for leagues parsed ahead on the other cores (the "parse" stage is then the wait).
    """
    with timer("parse"):
        parsed = parse(folder, landing_root=landing_root)
    outcome = LeagueImport(league=parsed.league, run_id=run_id)
    if on_parsed:
        on_parsed(parsed)
    stages = league_stages(
        conn, parsed, run_id, limits=limits, snapshot_keep=snapshot_keep, timer=timer, on_step=on_step, url=url
    )
    del parsed  # the generator holds it only until its rows are staged
    for stage, result in stages:
        if stage == "judged":
            outcome.verdicts.update(result)
            outcome.blocked_by = refusal(result)
        elif stage == "published":
            outcome.publish = result
    if outcome.publish is not None:
        with timer("checks"):
            outcome.verdicts.update(verify(conn, outcome.league, run_id))
    return outcome


def league_folders(landing: Path, leagues: list[str] | None = None) -> tuple[dict[str, Path], list[tuple[str, str]]]:
    """The league folders under `landing` to import, by code (every one, or only `leagues`, in any
    case), and (name, reason) for each that cannot be: a bad folder name, a named league without a folder."""
    found: dict[str, Path] = {}
    unusable: list[tuple[str, str]] = []
    for folder in find_leagues(landing):
        try:
            found[league_code(folder)] = folder
        except InputError as exc:
            unusable.append((folder.name, str(exc)))
    wanted = [code.upper() for code in leagues] if leagues else sorted(found)
    unusable += [(code, f"no folder for league {code} in {landing}") for code in wanted if code not in found]
    return {code: found[code] for code in wanted if code in found}, unusable


DRY_RUN_PREFIX = "dry-run-"  # the run id of a rehearsal (never kept: its transaction is rolled back)


def rehearse_import(
    conn: psycopg.Connection,
    folders: dict[str, Path],
    *,
    landing_root: Path | None = None,
    limits: policy.ImportLimits = policy.ImportLimits(),  # noqa: B008 - frozen, shared safely
) -> Iterator[tuple[str, LeagueImport | InputError]]:
    """`rally import --dry-run`: each league (code -> folder) as the import would take it, in order
    (parse, stage, the blocking verdicts, the publish), all in ONE transaction rolled back at the end.

    Each league sees the leagues before it as the real import would (a club two leagues share is
    inserted once, by the first), so every report is exactly what the real import would print.
    Staging, the runs' records and rejections are rolled back with the rest: every table, the ETL's
    own included, is left as it was (only sequences may have advanced). Yields (code, outcome), or
    (code, the InputError) for a folder that cannot be read.
    """
    with conn.transaction() as everything:
        for code, folder in folders.items():
            try:
                yield code, _rehearse_league(conn, folder, landing_root, limits)
            except InputError as exc:
                yield code, exc
        raise psycopg.Rollback(everything)


def _rehearse_league(
    conn: psycopg.Connection, folder: Path, landing_root: Path | None, limits: policy.ImportLimits
) -> LeagueImport:
    parsed = parse_league(folder, landing_root=landing_root)
    run_id = f"{DRY_RUN_PREFIX}{uuid.uuid4().hex[:16]}"
    outcome = LeagueImport(league=parsed.league, run_id=run_id)
    with conn.transaction() as league:
        stage_league(conn, parsed, run_id)
        del parsed
        outcome.verdicts.update(judge(conn, outcome.league, run_id, limits))
        outcome.blocked_by = refusal(outcome.verdicts)
        if outcome.blocked_by:
            raise psycopg.Rollback(league)  # a refused league changes nothing; the next ones go on
        # The publish itself (a savepoint of the rehearsal, which clears the league's staged rows),
        # kept until the rehearsal's rollback so that the next league is judged on top of it.
        outcome.publish = publish_league(conn, outcome.league, run_id, carry_user_links=limits.allow_churn)
        outcome.publish.xid = None  # that transaction never commits
    return outcome


def post_import(
    conn: psycopg.Connection,
    *,
    discovery_limit: int = policy.DISCOVERY_LIMIT,
    source: str,
    timer: Timer = _untimed,
) -> dict[str, Verdict]:
    """What post_import_job runs after the leagues: league contexts, discovery, the health verdicts."""
    with timer("discovery"):
        fix_league_contexts(conn, source=source)
        discover(conn, limit=discovery_limit, source=source)
    with timer("checks"):
        return {name: verdict(conn) for name, verdict in HEALTH_VERDICTS.items()}
