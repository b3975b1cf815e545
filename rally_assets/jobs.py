import dagster as dg

from rally_assets.assets import IMPORT_GROUP
from rally_assets.partitions import league_partitions

import_league_job = dg.define_asset_job(
    "import_league_job",
    selection=dg.AssetSelection.groups(IMPORT_GROUP),
    partitions_def=league_partitions,
    description="Parse, stage and publish one league (one partition per league folder).",
)
