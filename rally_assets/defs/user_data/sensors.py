"""Any publish of a league -> the post-import job, however the import was launched (the landing
sensor, the UI's Materialize, a backfill): the sensor follows the `players` table asset, not a job."""

import dagster as dg

from rally_assets.core.settings import sensor_interval_seconds
from rally_assets.defs.landing_run import POST_IMPORT_IN_RUN
from rally_assets.defs.league_import.assets import TABLE_KEYS
from rally_assets.defs.user_data.jobs import post_import_job

CLI_SOURCE = ("rally/source", "cli")  # `rally import` runs the post-import job itself, right after


@dg.asset_sensor(
    asset_key=TABLE_KEYS["players"],
    job=post_import_job,
    minimum_interval_seconds=sensor_interval_seconds(),
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def post_import_sensor(context: dg.SensorEvaluationContext, asset_event: dg.EventLogEntry):
    """After a league is published: league contexts, discovery and the health checks, once per publish run.
    Several publishes between two ticks are followed by one run (it covers every league)."""
    run = context.instance.get_run_by_id(asset_event.run_id)
    if run is not None and run.tags.get(CLI_SOURCE[0]) == CLI_SOURCE[1]:
        return dg.SkipReason(f"run {asset_event.run_id[:8]} came from `rally import`, which ran the post-import itself")
    if run is not None and run.tags.get(POST_IMPORT_IN_RUN[0]) == POST_IMPORT_IN_RUN[1]:
        return dg.SkipReason(f"run {asset_event.run_id[:8]} ran the post-import itself (import_landing_job)")
    league = asset_event.dagster_event.partition if asset_event.dagster_event else None
    return dg.RunRequest(
        run_key=f"post-import:{asset_event.run_id}",
        tags={"rally/after_run": asset_event.run_id, "rally/league": league or ""},
    )
