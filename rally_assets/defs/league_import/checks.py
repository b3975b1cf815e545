"""Checks of one league's import: each wraps one verdict of rally_assets.core.pipeline, by name.

Before publish (blocking, on staged_league): scrape integrity, staged data quality, churn breaker. After publish (on
published_league): availability untouched (blocking), associations preserved, no orphan references.
"""

import dagster as dg

from rally_assets.core import pipeline
from rally_assets.defs.league_import.assets import published_league, staged_league
from rally_assets.defs.metadata import check_result, league_of_run
from rally_assets.defs.resources import ImportPolicy, RallyDatabase
from rally_assets.tooling.faults import checkpoint

DESCRIPTIONS = {
    "scrape_integrity": (
        "Refuses a corrupt scrape: players.json empty, player ids missing on most rows, the series collapsed "
        "(Series against its own Series Mapping ID, or one series for a league that had many), club names "
        "truncated. Names the file, the measure, the limit and the rows seen. Not overridable."
    ),
    "staged_data_quality": "Unusable rows per landing file under the limit; natural keys unique in staging.",
    "churn_breaker": (
        "Refuses a publish that would deactivate too many active or user-linked players (within the series "
        "the landing covers); says why: id-scheme change, naming drift or departures, and which action fits."
    ),
    "availability_untouched": "No availability row that existed before the import was deleted or changed by it.",
    "associations_preserved": "Every association that existed before the import is still there.",
    "no_orphan_references": "No user-owned row points at a league, team, series or player that does not exist.",
}
BLOCKING_AFTER_PUBLISH = {"availability_untouched"}  # a publish that touched availability fails the run


def _before_publish(name: str) -> dg.AssetChecksDefinition:
    verdict = pipeline.BLOCKING_VERDICTS[name]

    @dg.asset_check(name=name, asset=staged_league, blocking=True, description=DESCRIPTIONS[name])
    def _check(context: dg.AssetCheckExecutionContext, database: RallyDatabase, import_policy: ImportPolicy):
        with database.connect() as conn:
            return check_result(verdict(conn, league_of_run(context), context.run.run_id, import_policy.limits()))

    return _check


def _after_publish(name: str) -> dg.AssetChecksDefinition:
    verdict = pipeline.PUBLISHED_VERDICTS[name]

    @dg.asset_check(
        name=name, asset=published_league, blocking=name in BLOCKING_AFTER_PUBLISH, description=DESCRIPTIONS[name]
    )
    def _check(context: dg.AssetCheckExecutionContext, database: RallyDatabase):
        checkpoint("checks")
        with database.connect() as conn:
            return check_result(verdict(conn, league_of_run(context), context.run.run_id))

    return _check


IMPORT_CHECKS = [_before_publish(name) for name in pipeline.BLOCKING_VERDICTS] + [
    _after_publish(name) for name in pipeline.PUBLISHED_VERDICTS
]
