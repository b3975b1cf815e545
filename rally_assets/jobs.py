import dagster as dg

from rally_assets.assets import IMPORT_GROUP, USER_DATA_GROUP, user_data_health, user_data_repairs
from rally_assets.partitions import league_partitions

# Per league: parse, stage, check (blocking), snapshot, publish, check. Includes the checks of its assets.
import_league_job = dg.define_asset_job(
    "import_league_job",
    selection=dg.AssetSelection.groups(IMPORT_GROUP),
    partitions_def=league_partitions,
    description="Parse, stage, check, snapshot and publish one league (one partition per league folder).",
)

# After the leagues: repair contexts, discover associations, then the health checks.
post_import_job = dg.define_asset_job(
    "post_import_job",
    selection=dg.AssetSelection.groups(USER_DATA_GROUP),
    description="League contexts (one rule), association discovery and the user-data health checks.",
)

# A failed health check: repair, then the same checks again (the history shows failed, then passed).
repair_job = dg.define_asset_job(
    "repair_job",
    selection=dg.AssetSelection.assets(user_data_repairs, user_data_health),
    description="Fix league contexts, re-associate and discover, relink availability; then re-run the health checks.",
)

# Between imports the app keeps writing: the health checks alone, on a schedule.
health_check_job = dg.define_asset_job(
    "health_check_job",
    selection=dg.AssetSelection.checks_for_assets(user_data_health),
    description="The user-data health checks, without materialising anything.",
)
