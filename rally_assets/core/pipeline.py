"""One league's import, stage by stage, as plain functions: the Dagster assets each call one
stage, the checks one verdict, and `import_league` runs them in the same order for callers
outside Dagster (the bench, the tests). The stages and the verdicts live here once."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from rally_assets.core import policy
from rally_assets.core.parsing.league import ParsedLeague, parse_league
from rally_assets.core.protection import integrity, verdicts
from rally_assets.core.protection.snapshots import take_snapshot
from rally_assets.core.publish.league import publish_league
from rally_assets.core.publish.report import PublishReport
from rally_assets.core.staging import clear_run, stage_league
from rally_assets.core.users import health
from rally_assets.core.users.contexts import fix_league_contexts
from rally_assets.core.users.repairs import discover
from rally_assets.core.verdict import Verdict

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
    return {name: verdict(conn, league, run_id) for name, verdict in PUBLISHED_VERDICTS.items()}


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
) -> LeagueImport:
    """Parse, stage, judge (blocking verdicts), snapshot, publish, verify: what import_league_job runs.

    `timer(stage)` wraps each stage ("parse", "stage", "checks", "snapshot", "publish"); `on_parsed`
    sees the parsed frames before staging; `on_step` each publish step.
    """
    with timer("parse"):
        parsed = parse_league(folder, landing_root=landing_root)
    outcome = LeagueImport(league=parsed.league, run_id=run_id)
    if on_parsed:
        on_parsed(parsed)
    with timer("stage"):
        stage_league(conn, parsed, run_id)
    del parsed
    with timer("checks"):
        outcome.verdicts.update(judge(conn, outcome.league, run_id, limits))
    outcome.blocked_by = next((name for name, v in outcome.verdicts.items() if not v.passed), None)
    if outcome.blocked_by:
        clear_run(conn, run_id)
        return outcome
    with timer("snapshot"):
        take_snapshot(conn, run_id, outcome.league, keep=snapshot_keep)
    with timer("publish"):
        outcome.publish = publish_league(
            conn, outcome.league, run_id, carry_user_links=limits.allow_churn, on_step=on_step
        )
    with timer("checks"):
        outcome.verdicts.update(verify(conn, outcome.league, run_id))
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
