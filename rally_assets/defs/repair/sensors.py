"""A health check fails -> the repair job, once for that evaluation."""

import json

import dagster as dg

from rally_assets.core.settings import sensor_interval_seconds
from rally_assets.defs.repair.jobs import repair_job
from rally_assets.defs.user_data.checks import HEALTH_CHECK_KEYS


@dg.sensor(
    job=repair_job, minimum_interval_seconds=sensor_interval_seconds(), default_status=dg.DefaultSensorStatus.RUNNING
)
def repair_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
    """A health check's latest evaluation failed: launch the repair job, once for that evaluation.

    Cursor: check -> id of the last evaluation handled. A record goes PLANNED -> FAILED under the
    same id, so a PLANNED one is looked at again later. A failure produced by a repair run does not
    launch another repair: that data needs an operator, and a loop would fix nothing.
    """
    handled: dict = json.loads(context.cursor) if context.cursor else {}
    latest = context.instance.event_log_storage.get_latest_asset_check_execution_by_key(HEALTH_CHECK_KEYS)
    failed_runs: dict[str, list[str]] = {}
    notes = []
    for key, record in latest.items():
        name = key.to_user_string()
        if record.id <= handled.get(name, 0):
            continue
        run = context.instance.get_run_by_id(record.run_id)
        if record.status.value == "PLANNED":
            if run is None or not run.is_finished:
                continue  # still being evaluated
            handled[name] = record.id
            notes.append(f"{name} did not finish in run {record.run_id[:8]}")
            continue
        handled[name] = record.id
        if record.status.value != "FAILED":
            continue
        if run is not None and run.job_name == repair_job.name:
            notes.append(f"{name} still fails after repair run {record.run_id[:8]}: needs an operator")
            continue
        failed_runs.setdefault(record.run_id, []).append(name)
    requests = [
        dg.RunRequest(
            run_key=f"repair:{run_id}",
            tags={"rally/failed_checks": ",".join(sorted(names)), "rally/failed_run": run_id},
        )
        for run_id, names in failed_runs.items()
    ]
    return dg.SensorResult(
        run_requests=requests,
        cursor=json.dumps(handled, sort_keys=True),
        skip_reason=None if requests else ("; ".join(notes) or "no new failed health check"),
    )
