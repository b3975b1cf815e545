"""The per-league import job."""

import dagster as dg

from rally_assets.defs.league_import.assets import IMPORT_GROUP
from rally_assets.defs.partitions import league_partitions

# Per league: parse, stage, check (blocking), snapshot, publish, check. Includes the checks of its assets.
import_league_job = dg.define_asset_job(
    "import_league_job",
    selection=dg.AssetSelection.groups(IMPORT_GROUP),
    partitions_def=league_partitions,
    description="Parse, stage, check, snapshot and publish one league (one partition per league folder).",
)
