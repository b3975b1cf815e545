"""Checks of one league's import, each one verdict of rally_assets.core.pipeline, by name.

The gate (per league, on staged_league): scrape integrity, staged data quality, churn breaker. They
are evaluated inside the import step, and a failed one refuses the publish there (so a refused import
is a failed check on that league's staged data, and its tables keep their last good publish).

After the publish, on the app tables it protects: availability untouched (on player_availability),
associations preserved and no orphan references (on user_player_associations).
"""

from dataclasses import replace

import dagster as dg

from rally_assets.core import pipeline
from rally_assets.core.verdict import Verdict
from rally_assets.defs.catalog import APP_TABLES
from rally_assets.defs.events import Event
from rally_assets.defs.metadata import check_event, league_of_run
from rally_assets.defs.partitions import league_partitions
from rally_assets.defs.resources import RallyDatabase
from rally_assets.tooling.faults import checkpoint

STAGED_KEY = dg.AssetKey("staged_league")
PUBLISHED_KEY = dg.AssetKey("players")  # written by every publish: the after-publish checks follow it

OVERRIDE = (
    "\n\nA failed check refuses the publish; the league's tables keep their last good publish. "
    "To publish anyway: `rally import --{flag}`, or in the launchpad "
    "`resources: {{import_policy: {{config: {{{setting}}}}}}}`."
)
DESCRIPTIONS = {
    "scrape_integrity": (
        "**Gate.** Refuses a corrupt scrape: players.json empty, player ids missing on most rows, the series "
        "collapsed (Series against its own Series Mapping ID, or one series for a league that had many), club "
        "names truncated. Names the file, the measure, the limit and the rows seen. **Not overridable**: "
        "wait for a sound scrape."
    ),
    "staged_data_quality": "**Gate.** Unusable rows per landing file under the limit; natural keys unique in staging."
    + OVERRIDE.format(flag="max-rejected-pct PCT", setting="max_rejected_pct: PCT"),
    "churn_breaker": (
        "**Gate.** Refuses a publish that would deactivate too many active or user-linked players (within the "
        "series the landing covers); says why: id-scheme change, naming drift or departures, and which action fits."
    )
    + OVERRIDE.format(flag="allow-churn", setting="allow_churn: true"),
    "availability_untouched": "No availability row that existed before the import was deleted or changed by it. "
    "Blocking: a publish that touched availability fails its run.",
    "associations_preserved": "Every association that existed before the import is still there.",
    "no_orphan_references": "No user-owned row points at a league, team, series or player that does not exist.",
}

GATE_CHECK_SPECS = [
    dg.AssetCheckSpec(name, asset=STAGED_KEY, description=DESCRIPTIONS[name], partitions_def=league_partitions)
    for name in pipeline.BLOCKING_VERDICTS
]
AFTER_PUBLISH_TARGETS = {
    "availability_untouched": "player_availability",
    "associations_preserved": "user_player_associations",
    "no_orphan_references": "user_player_associations",
}
BLOCKING_AFTER_PUBLISH = {"availability_untouched"}


def gate_events(league: str, verdicts: dict[str, Verdict]) -> list[Event]:
    """The gate verdicts as the league's results of its checks on staged_league."""
    return [check_event(verdict, STAGED_KEY, name, partition=league) for name, verdict in verdicts.items()]


def after_publish_event(name: str, verdict: Verdict, league: str) -> Event:
    """An after-publish verdict on the app table it protects (those checks are not per league: the
    league is in the metadata)."""
    return check_event(verdict, APP_TABLES[AFTER_PUBLISH_TARGETS[name]].key, name, league=league)


def after_publish_run_events(verdicts: dict[str, dict[str, Verdict]]) -> list[Event]:
    """The after-publish verdicts of several leagues published in one run (league -> name -> verdict)
    as ONE evaluation per check: Dagster keeps one result per check and run, and a failure of one
    league must not be hidden by the next league's pass. It passes when every league passed; its
    numbers are the first failed league's (else the last league's), `by_league` has every league's."""
    events = []
    for name in pipeline.PUBLISHED_VERDICTS:
        results = {league: checks[name] for league, checks in verdicts.items() if name in checks}
        if not results:
            continue
        failed = [league for league, v in results.items() if not v.passed]
        shown = failed[0] if failed else list(results)[-1]
        event = after_publish_event(name, results[shown], shown)
        listed = failed or list(results)
        description = "; ".join(f"{league}: {results[league].description}" for league in listed)
        by_league = {league: {"passed": v.passed, "description": v.description} for league, v in results.items()}
        events.append(
            replace(
                event,
                passed=not failed,
                description=description if failed or len(results) == 1 else f"every league passed. {description}",
                metadata={**event.metadata, "by_league": dg.MetadataValue.json(by_league)},
            )
        )
    return events


def _after_publish(name: str) -> dg.AssetChecksDefinition:
    verdict = pipeline.PUBLISHED_VERDICTS[name]

    @dg.asset_check(
        name=name,
        asset=APP_TABLES[AFTER_PUBLISH_TARGETS[name]].key,
        additional_deps=[PUBLISHED_KEY],
        blocking=name in BLOCKING_AFTER_PUBLISH,
        description=DESCRIPTIONS[name],
    )
    def _check(context: dg.AssetCheckExecutionContext, database: RallyDatabase):
        checkpoint("checks")
        league = league_of_run(context)
        with database.connect() as conn:
            return after_publish_event(name, verdict(conn, league, context.run.run_id), league).as_result()

    return _check


AFTER_PUBLISH_CHECKS = [_after_publish(name) for name in pipeline.PUBLISHED_VERDICTS]
