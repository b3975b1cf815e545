"""Per league: no publish for N days is a WARN on its `leagues` table asset (N: RALLY_FRESHNESS_DAYS)."""

from datetime import UTC, datetime

import dagster as dg

from rally_assets.core import import_runs
from rally_assets.core.constants import LEAGUE_PARTITIONS
from rally_assets.core.leagues import freshness_verdict
from rally_assets.core.settings import freshness_cron, freshness_days
from rally_assets.defs.league_import.assets import TABLE_KEYS
from rally_assets.defs.metadata import check_event
from rally_assets.defs.partitions import league_partitions
from rally_assets.defs.resources import RallyDatabase


@dg.asset_check(
    name="league_freshness",
    asset=TABLE_KEYS["leagues"],
    partitions_def=league_partitions,
    description="The league was published within the last N days (RALLY_FRESHNESS_DAYS, default "
    "rally_assets.core.policy.FRESHNESS_DAYS). A stale league is a WARN: its data is still live, but the "
    "scrapers may have stopped.",
)
def league_freshness(context: dg.AssetCheckExecutionContext, database: RallyDatabase) -> dg.AssetCheckResult:
    league = context.run.tags["dagster/partition"]
    with database.connect() as conn:
        _count, last = import_runs.published_runs(conn, league)
    verdict = freshness_verdict(last, datetime.now(UTC), freshness_days())
    return check_event(verdict, TABLE_KEYS["leagues"], "league_freshness", severity="WARN", league=league).as_result()


freshness_check_job = dg.define_asset_job(
    "freshness_check_job",
    selection=dg.AssetSelection.checks(league_freshness),
    partitions_def=league_partitions,
    executor_def=dg.in_process_executor,
    description="The freshness check of one league.",
)


@dg.schedule(
    job=freshness_check_job,
    cron_schedule=freshness_cron(),
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every league's freshness check, daily: one run per league partition.",
)
def freshness_schedule(context: dg.ScheduleEvaluationContext):
    leagues = context.instance.get_dynamic_partitions(LEAGUE_PARTITIONS)
    if not leagues:
        return dg.SkipReason("no league partition yet")
    stamp = context.scheduled_execution_time.strftime("%Y%m%d")
    return [dg.RunRequest(run_key=f"freshness:{league}:{stamp}", partition_key=league) for league in leagues]
