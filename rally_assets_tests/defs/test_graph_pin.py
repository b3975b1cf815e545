"""The graph, pinned: every job's assets and asset checks, every sensor's and schedule's target.

A re-layout of the code must leave this unchanged; a change of the graph changes it on purpose.
"""

from __future__ import annotations

from rally_assets.definitions import defs

TABLES = [
    "clubs",
    "leagues",
    "match_scores",
    "player_history",
    "players",
    "schedule",
    "series",
    "series_stats",
    "teams",
]
HEALTH_CHECKS = ["player_availability:availability_user_id_check", "users:league_context_health_check"]
JOBS = {
    "import_league_job": {
        "assets": sorted([*TABLES, "staged_league", "user_data_snapshot"]),
        "checks": [
            "player_availability:availability_untouched",
            "staged_league:churn_breaker",
            "staged_league:scrape_integrity",
            "staged_league:staged_data_quality",
            "user_player_associations:associations_preserved",
            "user_player_associations:no_orphan_references",
        ],
    },
    # An op job: `rally import`'s one run logs the events of the two jobs above for every league.
    "import_landing_job": {"assets": [], "checks": []},
    "post_import_job": {"assets": ["association_discovery", "league_contexts"], "checks": HEALTH_CHECKS},
    "repair_job": {"assets": ["user_data_repairs"], "checks": HEALTH_CHECKS},
    "health_check_job": {"assets": [], "checks": HEALTH_CHECKS},
    "freshness_check_job": {"assets": [], "checks": ["leagues:league_freshness"]},
}
SENSORS = {
    "landing_sensor": ["import_league_job"],
    "post_import_sensor": ["post_import_job"],
    "repair_sensor": ["repair_job"],
}
SCHEDULES = {"health_check_schedule": "health_check_job", "freshness_schedule": "freshness_check_job"}


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
