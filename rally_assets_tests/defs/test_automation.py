"""Sensors, the health schedule and Dagster's own storage on PostgreSQL (automation issue)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import dagster as dg
import yaml
from dagster._core.instance.ref import InstanceRef  # the public API builds instances only from DAGSTER_HOME

from rally_assets.core import db
from rally_assets.core.settings import dagster_yaml
from rally_assets.definitions import defs
from rally_assets.defs.league_import.sensors import landing_sensor
from rally_assets.defs.repair.sensors import repair_sensor
from rally_assets.defs.resources import LandingZone
from rally_assets.defs.runner import run_post_import
from rally_assets_tests.conftest import (
    IMPORT_1,
    PROJECT_ROOT,
    create_database,
    dagster_storage,
    drop_database,
    landing_with,
    requires_real_data,
)

PROJECT = PROJECT_ROOT


class Tick:
    """One sensor evaluation: its run requests, cursor and skip message."""

    def __init__(self, result: dg.SensorResult):
        self.run_requests = list(result.run_requests or [])
        self.cursor = result.cursor
        self.skip_message = result.skip_reason.skip_message if result.skip_reason else None
        self.dynamic_partitions_requests = list(result.dynamic_partitions_requests or [])


def tick(sensor, instance, cursor=None, landing: Path | None = None) -> Tick:
    resources = {"landing": LandingZone(path=str(landing))} if landing else {}
    context = dg.build_sensor_context(instance=instance, cursor=cursor, resources=resources, definitions=defs)
    return Tick(sensor(context))


def age(folder: Path, seconds: float = 60) -> None:
    """Make a folder's files look written `seconds` ago (settled)."""
    past = time.time() - seconds
    for path in folder.iterdir():
        os.utime(path, (past, past))


@requires_real_data
def test_landing_sensor_requests_one_run_per_new_settled_league(dagster_instance, tmp_path):
    landing = landing_with(tmp_path, IMPORT_1, ["NSTF"])
    age(landing / "NSTF")
    first = tick(landing_sensor, dagster_instance, landing=landing)
    (request,) = first.run_requests
    assert request.partition_key == "NSTF" and request.run_key.startswith("NSTF:")
    assert [r.partition_keys for r in first.dynamic_partitions_requests] == [["NSTF"]]
    dg.validate_run_config(defs.resolve_job_def("import_league_job"), request.run_config)
    # nothing new: no request, and the skip reason says what was seen
    second = tick(landing_sensor, dagster_instance, cursor=first.cursor, landing=landing)
    assert second.run_requests == [] and "1 unchanged" in second.skip_message
    # touched but identical bytes: still no request
    age(landing / "NSTF", 30)
    third = tick(landing_sensor, dagster_instance, cursor=second.cursor, landing=landing)
    assert third.run_requests == [] and "identical content" in third.skip_message
    # a cursor reset gives the same run key (Dagster then refuses to launch it twice)
    reset = tick(landing_sensor, dagster_instance, cursor=None, landing=landing)
    assert [r.run_key for r in reset.run_requests] == [request.run_key]
    # changed content: a new run key
    players = landing / "NSTF" / "players.json"
    records = json.loads(players.read_text())
    players.write_text(json.dumps(records[:-1]))
    age(landing / "NSTF")
    changed = tick(landing_sensor, dagster_instance, cursor=third.cursor, landing=landing)
    assert len(changed.run_requests) == 1 and changed.run_requests[0].run_key != request.run_key


@requires_real_data
def test_landing_sensor_waits_for_files_to_settle_and_skips_odd_folders(dagster_instance, tmp_path):
    landing = landing_with(tmp_path, IMPORT_1, ["NSTF"])
    age(landing / "NSTF", 0)  # just written: not settled
    (landing / "bad name!").mkdir()
    (landing / "bad name!" / "players.json").write_text("[]")
    result = tick(landing_sensor, dagster_instance, landing=landing)
    assert result.run_requests == []
    assert "settling: NSTF" in result.skip_message and "bad name!" in result.skip_message
    age(landing / "NSTF")
    assert len(tick(landing_sensor, dagster_instance, cursor=result.cursor, landing=landing).run_requests) == 1


def _fail_availability_check(url: str, share: float = 0.5) -> None:
    with db.connection(url) as conn:
        conn.execute("UPDATE player_availability SET user_id = NULL WHERE id %% 100 < %s", (int(share * 100),))


def test_repair_sensor_launches_once_per_failed_evaluation_and_never_loops(users_db, dagster_instance):
    _fail_availability_check(users_db)
    failed = run_post_import(instance=dagster_instance)
    assert failed.checks["availability_user_id_check"][0] is False
    first = tick(repair_sensor, dagster_instance)
    (request,) = first.run_requests
    assert request.run_key == f"repair:{failed.run_id}"
    assert tick(repair_sensor, dagster_instance, cursor=first.cursor).run_requests == []
    # the repair job fixes the data and re-runs the checks: the history shows failed, then passed
    repaired = defs.resolve_job_def("repair_job").execute_in_process(instance=dagster_instance, tags=request.tags)
    assert repaired.success
    key = dg.AssetCheckKey(dg.AssetKey("player_availability"), "availability_user_id_check")
    history = dagster_instance.event_log_storage.get_asset_check_execution_history(key, limit=10)
    assert [r.status.value for r in history[:2]] == ["SUCCEEDED", "FAILED"]
    after_repair = tick(repair_sensor, dagster_instance, cursor=first.cursor)
    assert after_repair.run_requests == []
    # data the repair cannot fix (availability of players nobody is linked to): no repair loop
    with db.connection(users_db) as conn:
        conn.execute("DELETE FROM user_player_associations WHERE user_id % 2 = 0")
    _fail_availability_check(users_db, 0.6)
    failing_again = defs.resolve_job_def("repair_job").execute_in_process(
        instance=dagster_instance, raise_on_error=False
    )
    evaluation = {e.check_name: e.passed for e in failing_again.get_asset_check_evaluations()}
    assert evaluation["availability_user_id_check"] is False
    looped = tick(repair_sensor, dagster_instance, cursor=after_repair.cursor)
    assert looped.run_requests == [] and "needs an operator" in looped.skip_message


def test_health_schedule_runs_the_health_checks_hourly():
    schedule = defs.resolve_schedule_def("health_check_schedule")
    assert schedule.cron_schedule == "0 * * * *"
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    job = defs.resolve_job_def("health_check_job")
    assert {k.name for k in job.asset_layer.asset_graph.asset_check_keys} >= {
        "league_context_health_check",
        "availability_user_id_check",
    }


def test_the_local_dagster_home_and_the_deployment_share_one_run_queue(tmp_path):
    """A new local home (settings.DAGSTER_YAML) and deploy/dagster.yaml hand out queued runs alike:
    every second, not Dagster's default 5 s (written in two files, kept equal here)."""
    (tmp_path / "dagster.yaml").write_text(dagster_yaml(tmp_path))
    local = yaml.safe_load((tmp_path / "dagster.yaml").read_text())
    shipped = yaml.safe_load((PROJECT_ROOT / "deploy" / "dagster.yaml").read_text())
    assert local["run_coordinator"] == shipped["run_coordinator"]
    instance = dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(tmp_path)))
    try:
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
        assert instance.run_coordinator.dequeue_interval_seconds == 1
    finally:
        instance.dispose()


def test_check_history_written_by_one_instance_is_read_by_a_fresh_one(server_url, users_db, tmp_path, monkeypatch):
    """Dagster's storage on PostgreSQL through deploy/dagster.yaml, in its own database."""
    name = create_database(server_url)
    try:
        home = tmp_path / "dagster_home"
        home.mkdir()
        for variable, value in dagster_storage(home, server_url, name).items():
            monkeypatch.setenv(variable, value)
        _fail_availability_check(users_db)
        writer = dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home)))
        try:
            assert type(writer.event_log_storage).__name__ == "PostgresEventLogStorage"
            assert writer.run_coordinator.dequeue_interval_seconds == 1  # not Dagster's default 5 s
            result = run_post_import(instance=writer)
            assert result.checks["availability_user_id_check"][0] is False
        finally:
            writer.dispose()
        reader = dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home)))
        try:
            key = dg.AssetCheckKey(dg.AssetKey("player_availability"), "availability_user_id_check")
            (record,) = reader.event_log_storage.get_asset_check_execution_history(key, limit=5)
            assert record.run_id == result.run_id and record.status.value == "FAILED"
            assert record.evaluation.metadata["without_user_id"].value > 0
        finally:
            reader.dispose()
    finally:
        drop_database(server_url, name)
