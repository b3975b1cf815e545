"""The code location loads, and the import job runs through Dagster on a real database."""

from __future__ import annotations

import dagster as dg

from rally_assets.core import db
from rally_assets.definitions import defs
from rally_assets.defs.runner import import_leagues
from rally_assets_tests.conftest import IMPORT_1, landing_with, requires_real_data


def test_definitions_load_and_name_the_import_job():
    dg.Definitions.validate_loadable(defs)
    job = defs.resolve_job_def("import_league_job")
    assert job.partitions_def is not None


@requires_real_data
def test_import_job_publishes_a_league_and_records_metadata(fresh_db, dagster_instance, tmp_path):
    landing = landing_with(tmp_path, IMPORT_1, ["NSTF"])
    (outcome,) = import_leagues(landing, instance=dagster_instance)
    assert outcome.success, outcome.error
    assert outcome.publish.tables["players"].inserted == 808
    assert "NSTF" in dagster_instance.get_dynamic_partitions("leagues")
    parsed = dagster_instance.get_latest_materialization_event(dg.AssetKey("staged_league"))
    metadata = parsed.asset_materialization.metadata
    assert metadata["match_history_read"].value == 194
    # issue 14: its 2 exact repeated rows are folded (counted), not rejected
    assert (metadata["match_history_rejected"].value, metadata["match_history_folded"].value) == (0, 2)
    with db.connection(fresh_db) as conn:
        assert conn.execute("SELECT count(*) FROM players").fetchone()[0] == 808
        status = conn.execute(
            "SELECT status FROM rally_etl.import_runs WHERE run_id = %s", (outcome.run_id,)
        ).fetchone()[0]
    assert status == "published"


@requires_real_data
def test_a_broken_league_fails_alone_and_names_its_file(fresh_db, dagster_instance, tmp_path):
    landing = landing_with(tmp_path, IMPORT_1, ["NSTF"])
    (landing / "CNSWPL").mkdir()
    (landing / "CNSWPL" / "players.json").write_text('[{"Player ID": "nndz-1",')  # truncated
    outcomes = {o.league: o for o in import_leagues(landing, instance=dagster_instance)}
    assert outcomes["NSTF"].success
    assert not outcomes["CNSWPL"].success
    assert "CNSWPL/players.json" in outcomes["CNSWPL"].error and "not valid JSON" in outcomes["CNSWPL"].error
    with db.connection(fresh_db) as conn:
        assert conn.execute("SELECT count(*) FROM leagues WHERE league_id = 'CNSWPL'").fetchone()[0] == 0
