"""The per-league import job."""

import dagster as dg

from rally_assets.defs.league_import.assets import import_league
from rally_assets.defs.league_import.checks import AFTER_PUBLISH_CHECKS
from rally_assets.defs.league_import.freshness import league_freshness
from rally_assets.defs.partitions import league_partitions

# Per league: one step (parse, stage, gate checks, snapshot, publish) and the after-publish checks.
import_league_job = dg.define_asset_job(
    "import_league_job",
    selection=(dg.AssetSelection.assets(import_league) - dg.AssetSelection.checks(league_freshness))
    | dg.AssetSelection.checks(*AFTER_PUBLISH_CHECKS),
    partitions_def=league_partitions,
    # In the run's own process: a step per process would import dagster and pandas again for each.
    executor_def=dg.in_process_executor,
    description="Parse, stage, check, snapshot and publish one league (one partition per league folder).",
)
