"""Automation: new JSON lands -> import; an import succeeds -> post-import; a health check fails
-> repair. All running by default."""

import json
import time
from pathlib import Path

import dagster as dg

from rally_assets.checks import HEALTH_CHECKS
from rally_assets.constants import LEAGUE_PARTITIONS
from rally_assets.jobs import import_league_job, post_import_job, repair_job
from rally_assets.landing import content_fingerprint, scan, settled
from rally_assets.partitions import league_partitions
from rally_assets.resources import LandingZone
from rally_assets.settings import sensor_interval_seconds, settle_seconds

HEALTH_CHECK_KEYS = [key for check in HEALTH_CHECKS for key in check.check_keys]


@dg.sensor(job=import_league_job, minimum_interval_seconds=sensor_interval_seconds(),
           default_status=dg.DefaultSensorStatus.RUNNING)
def landing_sensor(context: dg.SensorEvaluationContext, landing: LandingZone) -> dg.SensorResult:
    """One import run per league folder whose files are new or changed and have settled.

    Cursor: league -> [stat signature, content fingerprint]. The run key is the fingerprint, so the
    same files are never imported twice, even after a cursor reset or a restart.
    """
    root = landing.root()
    cursor: dict = json.loads(context.cursor) if context.cursor else {}
    states, skipped = scan(root)
    known = set(context.instance.get_dynamic_partitions(LEAGUE_PARTITIONS))
    requests, new_partitions, unchanged, settling, touched = [], [], 0, [], 0
    wait = settle_seconds()
    now = time.time()
    for state in states:
        previous = cursor.get(state.league)
        if previous and previous[0] == state.stat_signature:
            unchanged += 1
            continue
        if not settled(state, wait, now):
            settling.append(f"{state.league} (changed {now - state.newest_mtime:.0f}s ago)")
            continue  # the cursor is not advanced: it is looked at again next tick
        fingerprint = content_fingerprint(Path(state.folder))
        cursor[state.league] = [state.stat_signature, fingerprint]
        if previous and previous[1] == fingerprint:
            touched += 1  # touched, same bytes
            continue
        if state.league not in known:
            new_partitions.append(state.league)
        requests.append(
            dg.RunRequest(
                run_key=f"{state.league}:{fingerprint}",
                partition_key=state.league,
                run_config={"ops": {"parsed_league": {"config": {"landing_dir": str(root)}}}},
                tags={"rally/league": state.league, "rally/fingerprint": fingerprint},
            )
        )
    present = {s.league for s in states}
    cursor = {league: value for league, value in cursor.items() if league in present}
    seen = (
        f"{len(states)} league folder(s) in {root}: {unchanged} unchanged"
        + (f", {touched} touched with identical content" if touched else "")
        + (f", settling: {', '.join(settling)}" if settling else "")
        + (f"; skipped {', '.join(skipped)}" if skipped else "")
    )
    context.log.info(seen)
    return dg.SensorResult(
        run_requests=requests,
        cursor=json.dumps(cursor, sort_keys=True),
        dynamic_partitions_requests=[league_partitions.build_add_request(new_partitions)] if new_partitions else [],
        skip_reason=None if requests else seen,
    )


@dg.run_status_sensor(run_status=dg.DagsterRunStatus.SUCCESS, monitored_jobs=[import_league_job],
                      request_job=post_import_job, minimum_interval_seconds=sensor_interval_seconds(),
                      default_status=dg.DefaultSensorStatus.RUNNING)
def post_import_sensor(context: dg.RunStatusSensorContext):
    """After a league is published: contexts, discovery and the health checks, once per import run."""
    return dg.RunRequest(run_key=f"post-import:{context.dagster_run.run_id}",
                         tags={"rally/after_run": context.dagster_run.run_id})


@dg.sensor(job=repair_job, minimum_interval_seconds=sensor_interval_seconds(),
           default_status=dg.DefaultSensorStatus.RUNNING)
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
        dg.RunRequest(run_key=f"repair:{run_id}", tags={"rally/failed_checks": ",".join(sorted(names)), "rally/failed_run": run_id})
        for run_id, names in failed_runs.items()
    ]
    return dg.SensorResult(
        run_requests=requests,
        cursor=json.dumps(handled, sort_keys=True),
        skip_reason=None if requests else ("; ".join(notes) or "no new failed health check"),
    )
