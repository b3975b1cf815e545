"""An import succeeds -> the post-import job."""

import dagster as dg

from rally_assets.core.settings import sensor_interval_seconds
from rally_assets.defs.league_import.jobs import import_league_job
from rally_assets.defs.user_data.jobs import post_import_job


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=[import_league_job],
    request_job=post_import_job,
    minimum_interval_seconds=sensor_interval_seconds(),
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def post_import_sensor(context: dg.RunStatusSensorContext):
    """After a league is published: contexts, discovery and the health checks, once per import run."""
    return dg.RunRequest(
        run_key=f"post-import:{context.dagster_run.run_id}", tags={"rally/after_run": context.dagster_run.run_id}
    )
