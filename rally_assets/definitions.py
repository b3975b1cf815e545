"""The only place that builds dg.Definitions: one asset group per folder of rally_assets/defs, the
app's tables as external assets, code references on every asset."""

import dagster as dg

from rally_assets.defs.catalog import APP_TABLES
from rally_assets.defs.landing_run import import_landing_job
from rally_assets.defs.league_import import assets as league_import_assets
from rally_assets.defs.league_import.checks import AFTER_PUBLISH_CHECKS
from rally_assets.defs.league_import.freshness import freshness_check_job, freshness_schedule, league_freshness
from rally_assets.defs.league_import.jobs import import_league_job
from rally_assets.defs.league_import.sensors import landing_sensor
from rally_assets.defs.repair import assets as repair_assets
from rally_assets.defs.repair.jobs import repair_job
from rally_assets.defs.repair.sensors import repair_sensor
from rally_assets.defs.resources import ImportPolicy, LandingZone, RallyDatabase
from rally_assets.defs.user_data import assets as user_data_assets
from rally_assets.defs.user_data.checks import HEALTH_CHECKS
from rally_assets.defs.user_data.jobs import health_check_job, health_check_schedule, post_import_job
from rally_assets.defs.user_data.sensors import post_import_sensor

assets = [
    *dg.load_assets_from_modules([league_import_assets, user_data_assets, repair_assets]),
    league_import_assets.landing_folder,  # external: specs are not picked up from the modules
    *APP_TABLES.values(),
]

defs = dg.Definitions(
    assets=dg.with_source_code_references(assets),
    asset_checks=[*AFTER_PUBLISH_CHECKS, league_freshness, *HEALTH_CHECKS],
    jobs=[import_league_job, import_landing_job, post_import_job, repair_job, health_check_job, freshness_check_job],
    sensors=[landing_sensor, post_import_sensor, repair_sensor],
    schedules=[health_check_schedule, freshness_schedule],
    resources={"database": RallyDatabase(), "landing": LandingZone(), "import_policy": ImportPolicy()},
)
