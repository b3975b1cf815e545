"""The graph, pinned: every job's assets and asset checks, every sensor's and schedule's target.

A re-layout of the code must leave this unchanged; a change of the graph changes it on purpose.
"""

from __future__ import annotations

from rally_assets.definitions import defs

JOBS = {
    "import_league_job": {
        "assets": ["parsed_league", "published_league", "staged_league", "user_data_snapshot"],
        "checks": [
            "published_league:associations_preserved",
            "published_league:availability_untouched",
            "published_league:no_orphan_references",
            "staged_league:churn_breaker",
            "staged_league:scrape_integrity",
            "staged_league:staged_data_quality",
        ],
    },
    "post_import_job": {
        "assets": ["association_discovery", "league_contexts", "user_data_health"],
        "checks": ["user_data_health:availability_user_id_check", "user_data_health:league_context_health_check"],
    },
    "repair_job": {
        "assets": ["user_data_health", "user_data_repairs"],
        "checks": ["user_data_health:availability_user_id_check", "user_data_health:league_context_health_check"],
    },
    "health_check_job": {
        "assets": [],
        "checks": ["user_data_health:availability_user_id_check", "user_data_health:league_context_health_check"],
    },
}
SENSORS = {
    "landing_sensor": ["import_league_job"],
    "post_import_sensor": ["post_import_job"],
    "repair_sensor": ["repair_job"],
}
SCHEDULES = {"health_check_schedule": "health_check_job"}


def _graph() -> tuple[dict, dict, dict]:
    repo = defs.get_repository_def()
    jobs = {}
    for job in repo.get_all_jobs():
        if job.name.startswith("__"):
            continue  # Dagster's implicit asset job
        graph = job.asset_layer.asset_graph
        jobs[job.name] = {
            "assets": sorted(k.to_user_string() for k in job.asset_layer.selected_asset_keys),
            "checks": sorted(k.to_user_string() for k in graph.asset_check_keys),
        }
    sensors = {s.name: sorted(t.job_name for t in s.targets) for s in repo.sensor_defs}
    schedules = {s.name: s.job_name for s in repo.schedule_defs}
    return jobs, sensors, schedules


def test_jobs_select_the_pinned_assets_and_checks():
    jobs, _, _ = _graph()
    assert jobs == JOBS


def test_sensors_and_schedules_target_the_pinned_jobs():
    _, sensors, schedules = _graph()
    assert sensors == SENSORS
    assert schedules == SCHEDULES
