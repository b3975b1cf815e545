"""`rally import`'s one run (import_landing_job): every league on its own partition, with the same
events the per-league job produces, a refused or broken league on its own, the sensors' view of it."""

from __future__ import annotations

import shutil

import dagster as dg

from rally_assets.core import db
from rally_assets.core.publish.report import PUBLISHED_TABLES
from rally_assets.definitions import defs
from rally_assets.defs.runner import import_landing, import_leagues, run_config
from rally_assets.defs.user_data.sensors import post_import_sensor
from rally_assets_tests.conftest import IMPORT_1, IMPORT_2, landing_with, requires_real_data

LEAGUE_ASSETS = ["staged_league", "user_data_snapshot", *PUBLISHED_TABLES]


def _latest(instance: dg.DagsterInstance, asset: str, partition: str) -> dg.EventLogEntry:
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey(asset), asset_partitions=[partition]), limit=1
    ).records
    assert records, f"no materialization of {asset} for {partition}"
    return records[0].event_log_entry


def _check_history(instance: dg.DagsterInstance, key: str) -> list:
    asset, name = key.split(":")
    return instance.event_log_storage.get_asset_check_execution_history(
        dg.AssetCheckKey(dg.AssetKey(asset), name), limit=20
    )


@requires_real_data
def test_one_run_imports_every_league_on_its_own_partition(fresh_db, dagster_instance, tmp_path):
    landing = landing_with(tmp_path, IMPORT_1, ["NSTF", "CNSWPL"])

    outcome = import_landing(landing, instance=dagster_instance)

    assert [o.league for o in outcome.leagues] == ["CNSWPL", "NSTF"]
    assert all(o.success for o in outcome.leagues), [o.error for o in outcome.leagues]
    (run,) = dagster_instance.get_runs()  # one run for the whole import, the post-import included
    assert run.job_name == "import_landing_job" and run.is_success
    assert {o.dagster_run_id for o in outcome.leagues} == {run.run_id}
    assert set(dagster_instance.get_dynamic_partitions("leagues")) == {"CNSWPL", "NSTF"}
    for league in ("CNSWPL", "NSTF"):
        for asset in LEAGUE_ASSETS:  # each league's own materialization of every asset of the graph
            assert _latest(dagster_instance, asset, league).run_id == run.run_id
    nstf_players = _latest(dagster_instance, "players", "NSTF").asset_materialization.metadata
    assert nstf_players["dagster/row_count"].value == 808 and nstf_players["inserted"].value == 808
    gate = {(r.partition, r.status.value) for r in _check_history(dagster_instance, "staged_league:churn_breaker")}
    assert gate == {("CNSWPL", "SUCCEEDED"), ("NSTF", "SUCCEEDED")}
    (untouched,) = _check_history(dagster_instance, "player_availability:availability_untouched")
    assert untouched.status.value == "SUCCEEDED"  # one evaluation in the run, covering both leagues
    by_league = untouched.event.dagster_event.event_specific_data.metadata["by_league"].value
    assert {league: v["passed"] for league, v in by_league.items()} == {"CNSWPL": True, "NSTF": True}
    for check in ("users:league_context_health_check", "player_availability:availability_user_id_check"):
        (health,) = _check_history(dagster_instance, check)
        assert health.run_id == run.run_id and health.status.value == "SUCCEEDED"
    assert outcome.post_import.success and set(outcome.post_import.checks) == {
        "league_context_health_check",
        "availability_user_id_check",
    }
    with db.connection(fresh_db) as conn:
        runs = conn.execute("SELECT run_id, status FROM rally_etl.import_runs ORDER BY run_id").fetchall()
    assert runs == [(f"{run.run_id}:CNSWPL", "published"), (f"{run.run_id}:NSTF", "published")]


@requires_real_data
def test_the_one_run_reports_what_the_per_league_job_reports(fresh_db, dagster_instance, tmp_path):
    landing = landing_with(tmp_path, IMPORT_1, ["NSTF"])
    (per_league,) = import_leagues(landing, instance=dagster_instance)
    assert per_league.success, per_league.error

    def reported(run_id: str) -> tuple[dict, list]:
        metadata = {
            asset: set(_latest(dagster_instance, asset, "NSTF").asset_materialization.metadata)
            for asset in LEAGUE_ASSETS
        }
        checks = sorted(
            (
                r.dagster_event.event_specific_data.asset_key.to_user_string(),
                r.dagster_event.event_specific_data.check_name,
            )
            for r in dagster_instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION)
        )
        return metadata, checks

    before, checks_before = reported(per_league.dagster_run_id)
    landing_outcome = import_landing(landing, instance=dagster_instance)
    after, checks_after = reported(landing_outcome.leagues[0].dagster_run_id)
    assert after == before  # the same metadata keys on every asset
    health = [("player_availability", "availability_user_id_check"), ("users", "league_context_health_check")]
    assert checks_after == sorted(checks_before + health)  # plus the post-import's, in the same run
    assert landing_outcome.leagues[0].publish.tables["players"].inserted == 0  # the same files again


@requires_real_data
def test_a_refused_and_a_broken_league_stay_on_their_own_in_the_one_run(fresh_db, dagster_instance, tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    shutil.copytree(IMPORT_1 / "CNSWPL", first / "CNSWPL")
    assert import_landing(first, instance=dagster_instance).leagues[0].success
    published = {t: _latest(dagster_instance, t, "CNSWPL").run_id for t in PUBLISHED_TABLES}
    shutil.copytree(IMPORT_2 / "CNSWPL", second / "CNSWPL")  # an id-scheme change: the breaker refuses it
    shutil.copytree(IMPORT_1 / "NSTF", second / "NSTF")
    (second / "APTA_CHICAGO").mkdir()
    (second / "APTA_CHICAGO" / "players.json").write_text('[{"Player ID": "nndz-1",')  # truncated

    outcome = import_landing(second, instance=dagster_instance)

    by_league = {o.league: o for o in outcome.leagues}
    assert by_league["NSTF"].success
    assert by_league["CNSWPL"].error.startswith("blocked by check churn_breaker: ")
    broken = by_league["APTA_CHICAGO"].error
    assert "APTA_CHICAGO/players.json" in broken and "not valid JSON" in broken and "\n" not in broken
    run = dagster_instance.get_run_by_id(by_league["NSTF"].dagster_run_id)
    assert run.is_failure  # a league that broke fails the run; its failure names the league and the file
    failure = next(
        e for e in dagster_instance.all_logs(run.run_id, of_type=dg.DagsterEventType.STEP_FAILURE)
    ).dagster_event.step_failure_data.error
    assert "APTA_CHICAGO: " in failure.message and "CNSWPL" not in failure.message
    for table, run_id in published.items():  # the refused league keeps its last good publish
        assert _latest(dagster_instance, table, "CNSWPL").run_id == run_id, table
    assert _latest(dagster_instance, "players", "NSTF").run_id == run.run_id
    breaker = {
        (r.run_id, r.partition): r.status.value for r in _check_history(dagster_instance, "staged_league:churn_breaker")
    }
    assert breaker[(run.run_id, "CNSWPL")] == "FAILED" and breaker[(run.run_id, "NSTF")] == "SUCCEEDED"
    assert outcome.post_import is not None and outcome.post_import.success  # NSTF was published
    with db.connection(fresh_db) as conn:
        staged = conn.execute(
            "SELECT count(*) FROM rally_etl.stg_players WHERE run_id = %s", (by_league["CNSWPL"].run_id,)
        ).fetchone()[0]
        leagues = {r[0] for r in conn.execute("SELECT league_id FROM leagues").fetchall()}
    assert staged == 0 and leagues == {"CNSWPL", "NSTF"}


@requires_real_data
def test_the_post_import_sensor_leaves_the_one_run_alone(fresh_db, dagster_instance, tmp_path):
    landing = landing_with(tmp_path, IMPORT_1, ["NSTF"])
    # launched like the UI launches it (no `rally import` tag): it ran the post-import itself all the same
    result = defs.resolve_job_def("import_landing_job").execute_in_process(
        run_config={"ops": {"import_landing": {"config": {"landing_dir": str(landing)}}}},
        instance=dagster_instance,
    )
    assert result.success
    context = dg.build_sensor_context(instance=dagster_instance, definitions=defs)
    (skipped,) = post_import_sensor(context)
    assert isinstance(skipped, dg.SkipReason) and "ran the post-import itself" in skipped.skip_message

    # a per-league run launched the same way is followed by the post-import job
    per_league = defs.resolve_job_def("import_league_job").execute_in_process(
        run_config=run_config(landing), instance=dagster_instance, partition_key="NSTF"
    )
    assert per_league.success
    followed = post_import_sensor(
        dg.build_sensor_context(instance=dagster_instance, cursor=context.cursor, definitions=defs)
    )
    (request,) = followed
    assert request.run_key == f"post-import:{per_league.run_id}"
