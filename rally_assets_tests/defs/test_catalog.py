"""The catalog as the UI shows it: every Rally table and app table an asset with its partitioning,
owners, tags, description and code reference; the checks on the assets they protect; per-league
check results; a refused import that leaves the tables' last good publish; no secret in run config."""

from __future__ import annotations

import shutil

import dagster as dg
import pytest

from rally_assets.core import db
from rally_assets.core.constants import PROTECTED_TABLES
from rally_assets.core.publish.report import PUBLISHED_TABLES
from rally_assets.definitions import defs
from rally_assets.defs import catalog
from rally_assets.defs.resources import RallyDatabase
from rally_assets.defs.runner import import_leagues
from rally_assets_tests.conftest import IMPORT_1, IMPORT_2, landing_with, requires_real_data

GRAPH = defs.resolve_asset_graph()


def node(key: str):
    return GRAPH.get(dg.AssetKey(key))


def checks_on(key: str) -> set[str]:
    return {check.name for check in GRAPH.asset_check_keys if check.asset_key == dg.AssetKey(key)}


@pytest.mark.parametrize("table", PUBLISHED_TABLES)
def test_every_rally_table_is_a_per_league_asset_of_the_one_import_step(table):
    asset = node(table)
    assert asset.partitions_def is not None and asset.partitions_def.name == "leagues"
    assert asset.owners == [catalog.ETL_OWNER]
    assert asset.group_name == catalog.RALLY_TABLES_GROUP and asset.tags["layer"] == "published"
    assert asset.metadata["dagster/table_name"] == f"public.{table}"
    assert "code_references" in {k.split("/")[-1] for k in asset.metadata}
    # one transaction publishes every table: the UI can launch them only together, with the staging
    assert asset.execution_set_asset_keys == {dg.AssetKey(t) for t in PUBLISHED_TABLES} | {
        dg.AssetKey("staged_league"),
        dg.AssetKey("user_data_snapshot"),
    }


@pytest.mark.parametrize("table", PROTECTED_TABLES)
def test_every_app_table_is_an_external_asset_owned_by_the_app(table):
    asset = node(table)
    assert not asset.is_materializable and asset.partitions_def is None
    assert asset.owners == [catalog.APP_OWNER] and asset.group_name == catalog.APP_TABLES_GROUP
    assert asset.metadata["dagster/table_name"] == f"public.{table}"


def test_the_landing_folder_is_an_external_asset_per_league_upstream_of_the_staging():
    landing = node("landing_folder")
    assert not landing.is_materializable and landing.partitions_def.name == "leagues"
    assert dg.AssetKey("landing_folder") in node("staged_league").parent_keys


def test_every_asset_has_owners_tags_and_a_description():
    for asset in GRAPH.asset_nodes:
        name = asset.key.to_user_string()
        assert asset.owners, name
        assert asset.tags, name
        assert asset.description and len(asset.description) > 40, name


def test_the_checks_sit_on_the_assets_they_protect():
    assert checks_on("staged_league") == {"scrape_integrity", "staged_data_quality", "churn_breaker"}
    assert checks_on("player_availability") == {"availability_untouched", "availability_user_id_check"}
    assert checks_on("users") == {"league_context_health_check"}
    assert checks_on("user_player_associations") == {"associations_preserved", "no_orphan_references"}
    assert checks_on("leagues") == {"league_freshness"}
    # the per-league checks are partitioned like their asset
    for name in ("scrape_integrity", "staged_data_quality", "churn_breaker"):
        spec = GRAPH.get_check_spec(dg.AssetCheckKey(dg.AssetKey("staged_league"), name))
        assert spec.partitions_def is not None and spec.partitions_def.name == "leagues"


def test_the_database_resource_has_no_config_field_a_password_could_be_typed_into():
    assert RallyDatabase.model_fields == {}
    launchpad = defs.resolve_job_def("import_league_job").run_config_schema.config_type
    assert "url" not in str(launchpad.fields["resources"].config_type.fields["database"].config_type.fields)


@requires_real_data
def test_a_refused_import_is_a_failed_check_of_its_league_and_the_tables_keep_their_last_publish(
    fresh_db, dagster_instance, tmp_path
):
    first, second = tmp_path / "first", tmp_path / "second"
    shutil.copytree(IMPORT_1 / "CNSWPL", first / "CNSWPL")
    shutil.copytree(IMPORT_1 / "NSTF", first / "NSTF")
    shutil.copytree(IMPORT_2 / "CNSWPL", second / "CNSWPL")  # an id-scheme change: the breaker refuses it
    assert all(o.success for o in import_leagues(first, instance=dagster_instance))
    published = {t: dagster_instance.get_latest_materialization_event(dg.AssetKey(t)) for t in PUBLISHED_TABLES}

    (refused,) = import_leagues(second, instance=dagster_instance)
    assert not refused.success and refused.error.startswith("blocked by check churn_breaker")
    run = dagster_instance.get_run_by_id(refused.run_id)
    assert run.is_success  # nothing failed: the league was judged and refused, its partition is not red
    for table, event in published.items():
        latest = dagster_instance.get_latest_materialization_event(dg.AssetKey(table))
        assert latest.run_id == event.run_id, table  # still the last good publish
    # the refusal is the league's own check result, and only CNSWPL's
    key = dg.AssetCheckKey(dg.AssetKey("staged_league"), "churn_breaker")
    history = dagster_instance.event_log_storage.get_asset_check_execution_history(key, limit=10)
    by_partition = [(r.partition, r.status.value) for r in history]
    assert by_partition[0] == ("CNSWPL", "FAILED")
    assert ("NSTF", "SUCCEEDED") in by_partition
    with db.connection(fresh_db) as conn:
        assert (
            conn.execute("SELECT count(*) FROM rally_etl.stg_players WHERE run_id = %s", (refused.run_id,)).fetchone()[
                0
            ]
            == 0
        )


@requires_real_data
def test_a_published_table_carries_its_row_count_changes_and_column_schema(fresh_db, dagster_instance, tmp_path):
    landing = landing_with(tmp_path, IMPORT_1, ["NSTF"])
    (outcome,) = import_leagues(landing, instance=dagster_instance)
    assert outcome.success, outcome.error
    players = dagster_instance.get_latest_materialization_event(dg.AssetKey("players"))
    assert players.dagster_event.partition == "NSTF"
    metadata = players.asset_materialization.metadata
    assert metadata["dagster/row_count"].value == 808 and metadata["inserted"].value == 808
    columns = {c.name for c in metadata["dagster/column_schema"].value.columns}
    assert {"tenniscores_player_id", "league_id", "is_active"} <= columns
    assert isinstance(metadata["xid"], dg.TextMetadataValue)  # an id: text, never plotted
    snapshot = dagster_instance.get_latest_materialization_event(dg.AssetKey("user_data_snapshot"))
    assert isinstance(snapshot.asset_materialization.metadata["snapshot_id"], dg.TextMetadataValue)
    kept = dagster_instance.get_latest_materialization_event(dg.AssetKey("player_history"))
    assert "player_history.json absent" in kept.asset_materialization.metadata["kept"].value
