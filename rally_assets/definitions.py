"""The only place that builds dg.Definitions."""

import dagster as dg

from rally_assets.assets import (
    association_discovery,
    league_contexts,
    parsed_league,
    published_league,
    staged_league,
    user_data_health,
    user_data_repairs,
    user_data_snapshot,
)
from rally_assets.checks import HEALTH_CHECKS, IMPORT_CHECKS
from rally_assets.jobs import health_check_job, import_league_job, post_import_job, repair_job
from rally_assets.sensors import landing_sensor, post_import_sensor, repair_sensor
from rally_assets.settings import health_cron
from rally_assets.resources import ImportPolicy, LandingZone, RallyDatabase

defs = dg.Definitions(
    assets=[parsed_league, staged_league, user_data_snapshot, published_league, league_contexts, association_discovery,
            user_data_repairs, user_data_health],
    asset_checks=[*IMPORT_CHECKS, *HEALTH_CHECKS],
    jobs=[import_league_job, post_import_job, repair_job, health_check_job],
    sensors=[landing_sensor, post_import_sensor, repair_sensor],
    schedules=[
        dg.ScheduleDefinition(
            name="health_check_schedule",
            job=health_check_job,
            cron_schedule=health_cron(),
            default_status=dg.DefaultScheduleStatus.RUNNING,
            description="The health checks between imports: drift caused by the app is caught and repaired.",
        )
    ],
    resources={"database": RallyDatabase(), "landing": LandingZone(), "import_policy": ImportPolicy()},
)
