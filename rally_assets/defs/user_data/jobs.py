"""After the leagues, and between imports: the user-data jobs."""

import dagster as dg

from rally_assets.core.settings import health_cron
from rally_assets.defs.user_data.assets import USER_DATA_GROUP
from rally_assets.defs.user_data.checks import HEALTH_CHECKS

HEALTH_CHECK_SELECTION = dg.AssetSelection.checks(*HEALTH_CHECKS)

# After the leagues: restore league contexts, discover associations, then the health checks.
post_import_job = dg.define_asset_job(
    "post_import_job",
    selection=dg.AssetSelection.groups(USER_DATA_GROUP).without_checks() | HEALTH_CHECK_SELECTION,
    executor_def=dg.in_process_executor,  # three short steps: one process, not three
    description="League contexts (one rule), association discovery and the user-data health checks.",
)


# Between imports the app keeps writing: the health checks alone, on a schedule.
health_check_job = dg.define_asset_job(
    "health_check_job",
    selection=HEALTH_CHECK_SELECTION,
    executor_def=dg.in_process_executor,
    description="The user-data health checks, without materialising anything.",
)


health_check_schedule = dg.ScheduleDefinition(
    name="health_check_schedule",
    job=health_check_job,
    cron_schedule=health_cron(),
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="The health checks between imports: drift caused by the app is caught and repaired.",
)
