"""Checks of one league's import. Before publish (blocking, on staged_league): staged data quality,
churn breaker. After publish (on published_league): availability untouched (blocking), associations
preserved, no orphan references."""

import dagster as dg

from rally_assets.core.protection.snapshots import associations_missing, availability_changes, latest_snapshot
from rally_assets.core.protection.verdicts import churn, staged_quality
from rally_assets.core.users.health import orphan_references
from rally_assets.defs.league_import.assets import published_league, staged_league
from rally_assets.defs.metadata import as_metadata, league_of_run
from rally_assets.defs.resources import ImportPolicy, RallyDatabase
from rally_assets.tooling.faults import checkpoint


@dg.asset_check(
    asset=staged_league,
    blocking=True,
    description="Rejected rows per landing file under the limit; natural keys unique in staging.",
)
def staged_data_quality(context: dg.AssetCheckExecutionContext, database: RallyDatabase, import_policy: ImportPolicy):
    with database.connect() as conn:
        report = staged_quality(conn, league_of_run(context), context.run.run_id, import_policy.max_rejected_pct)
    passed = report.pop("passed")
    why = (
        "staged data is usable"
        if passed
        else f"files over {import_policy.max_rejected_pct}% rejected: {report['files_over_limit']}; "
        f"duplicate natural keys: { {k: v for k, v in report['duplicate_natural_keys'].items() if v} }"
    )
    return dg.AssetCheckResult(passed=bool(passed), description=why, metadata=as_metadata(report))


@dg.asset_check(
    asset=staged_league,
    blocking=True,
    description="Refuses a publish that would deactivate too many active or user-linked players.",
)
def churn_breaker(context: dg.AssetCheckExecutionContext, database: RallyDatabase, import_policy: ImportPolicy):
    with database.connect() as conn:
        report = churn(conn, league_of_run(context), context.run.run_id)
    over_active = report["deactivated_pct"] > import_policy.max_deactivated_pct
    over_linked = report["deactivated_linked_pct"] > import_policy.max_deactivated_linked_pct
    tripped = over_active or over_linked
    passed = not tripped or import_policy.allow_churn
    if not tripped:
        why = "churn within limits"
    else:
        why = (
            f"{report['deactivated_pct']}% of active players (limit {import_policy.max_deactivated_pct}%) and "
            f"{report['deactivated_linked_pct']}% of user-linked players (limit {import_policy.max_deactivated_linked_pct}%) "
            f"would be deactivated; {report['player_ids_replaced_pct']}% of player ids are gone from the import"
            + (" (an id-scheme change?)" if report["player_ids_replaced_pct"] >= 50 else "")
            + (
                "; published anyway by operator override (allow_churn), user links carried across"
                if import_policy.allow_churn
                else "; rerun with allow_churn (rally import --allow-churn) to publish anyway"
            )
        )
    return dg.AssetCheckResult(
        passed=bool(passed),
        description=why,
        metadata=as_metadata(
            {
                **report,
                "override": str(import_policy.allow_churn),
                "max_deactivated_pct": import_policy.max_deactivated_pct,
                "max_deactivated_linked_pct": import_policy.max_deactivated_linked_pct,
            }
        ),
    )


def _snapshot_or_fail(conn, context) -> int | None:
    return latest_snapshot(conn, context.run.run_id, league_of_run(context))


@dg.asset_check(
    asset=published_league,
    blocking=True,
    description="No availability row that existed before the import was deleted or changed by it.",
)
def availability_untouched(context: dg.AssetCheckExecutionContext, database: RallyDatabase):
    checkpoint("checks")
    with database.connect() as conn:
        snapshot_id = _snapshot_or_fail(conn, context)
        if snapshot_id is None:
            return dg.AssetCheckResult(passed=False, description="no user-data snapshot was taken in this run")
        xid = conn.execute(
            "SELECT (report->'publish'->>'xid')::bigint FROM etl_import_runs WHERE run_id = %s AND league = %s",
            (context.run.run_id, league_of_run(context)),
        ).fetchone()
        report = availability_changes(conn, snapshot_id, import_xid=xid[0] if xid else None)
    passed = report["lost"] == 0 and report["changed_by_import"] == 0
    why = (
        "availability untouched"
        if passed
        else (f"{report['lost']} availability row(s) lost and {report['changed_by_import']} changed without the app")
    )
    return dg.AssetCheckResult(
        passed=bool(passed), description=why, metadata=as_metadata({**report, "snapshot_id": snapshot_id})
    )


@dg.asset_check(asset=published_league, description="Every association that existed before the import is still there.")
def associations_preserved(context: dg.AssetCheckExecutionContext, database: RallyDatabase):
    with database.connect() as conn:
        snapshot_id = _snapshot_or_fail(conn, context)
        if snapshot_id is None:
            return dg.AssetCheckResult(passed=False, description="no user-data snapshot was taken in this run")
        report = associations_missing(conn, snapshot_id)
    passed = report["missing"] == 0
    why = "every association preserved" if passed else f"{report['missing']} association(s) disappeared"
    return dg.AssetCheckResult(
        passed=bool(passed), description=why, metadata=as_metadata({**report, "snapshot_id": snapshot_id})
    )


@dg.asset_check(
    asset=published_league,
    description="No user-owned row points at a league, team, series or player that does not exist.",
)
def no_orphan_references(database: RallyDatabase):  # global: any league's publish may orphan a reference
    with database.connect() as conn:
        orphans = orphan_references(conn)
    dangling = {k: v for k, v in orphans.items() if v}
    why = "no orphan references" if not dangling else f"dangling references: {dangling}"
    return dg.AssetCheckResult(
        passed=not dangling, description=why, metadata=as_metadata({**orphans, "total": sum(orphans.values())})
    )


IMPORT_CHECKS = [
    staged_data_quality,
    churn_breaker,
    availability_untouched,
    associations_preserved,
    no_orphan_references,
]
