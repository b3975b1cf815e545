"""The only place that builds dg.Definitions: one asset group per folder of rally_assets/defs."""

import dagster as dg

from rally_assets.defs.league_import import assets as league_import_assets
from rally_assets.defs.league_import.checks import IMPORT_CHECKS
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

defs = dg.Definitions(
    assets=dg.load_assets_from_modules([league_import_assets, user_data_assets, repair_assets]),
    asset_checks=[*IMPORT_CHECKS, *HEALTH_CHECKS],
    jobs=[import_league_job, post_import_job, repair_job, health_check_job],
    sensors=[landing_sensor, post_import_sensor, repair_sensor],
    schedules=[health_check_schedule],
    resources={"database": RallyDatabase(), "landing": LandingZone(), "import_policy": ImportPolicy()},
)
