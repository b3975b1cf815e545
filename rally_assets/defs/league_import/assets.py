"""The import of one league (dynamic partition), as one step: the landing folder is parsed and
staged, judged by the gate checks, snapshotted, then published to every Rally table in ONE
transaction. One non-subsettable multi-asset, so the UI can only launch the whole chain, and a
refused import leaves every table with its last good publish. The work is in rally_assets.core."""

import contextlib
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
from pydantic import Field

from rally_assets.core import pipeline
from rally_assets.core.errors import InputError
from rally_assets.core.import_runs import record_failed
from rally_assets.core.parsing.ahead import parsed as parsed_league
from rally_assets.core.protection.snapshots import take_snapshot
from rally_assets.core.publish.league import publish_league
from rally_assets.core.staging import clear_run, stage_league
from rally_assets.defs import catalog
from rally_assets.defs.league_import.checks import GATE_CHECK_SPECS, gate_result
from rally_assets.defs.metadata import as_metadata, parse_metadata, publish_metadata, table_metadata
from rally_assets.defs.partitions import league_partitions
from rally_assets.defs.resources import ImportPolicy, LandingZone, RallyDatabase

landing_folder = dg.AssetSpec(
    "landing_folder",
    partitions_def=league_partitions,
    group_name=catalog.LANDING_GROUP,
    description="The league's folder in the landing zone (`<LEAGUE>/players.json`, `match_history.json`, "
    "`schedules.json`, `series_stats.json`, `player_history.json`), written by the scrapers. "
    "The landing sensor starts an import when its files change and settle.",
    owners=[catalog.ETL_OWNER],
    tags={"layer": "landing", "domain": "league"},
    kinds={"json", "file"},
)

STAGED = dg.AssetSpec(
    "staged_league",
    deps=[landing_folder],
    partitions_def=league_partitions,
    group_name=catalog.IMPORT_GROUP,
    description="The league's five files parsed (pandas) and COPY'd into `rally_etl` staging under the run's id. "
    "The live tables are untouched. Its checks are the **gate**: a failed one refuses the publish.",
    owners=[catalog.ETL_OWNER],
    tags={"layer": "staging", "domain": "league"},
    kinds={"pandas", "postgres"},
)
SNAPSHOT = dg.AssetSpec(
    "user_data_snapshot",
    deps=[STAGED],
    partitions_def=league_partitions,
    group_name=catalog.IMPORT_GROUP,
    description="Associations, league contexts, user_contexts and availability fingerprints, taken just before "
    "the publish (what `availability_untouched` and `associations_preserved` compare against).",
    owners=[catalog.ETL_OWNER],
    tags={"layer": "protection", "domain": "user_data"},
    kinds={"postgres"},
    skippable=True,
)
TABLES = catalog.rally_table_specs(SNAPSHOT.key)
TABLE_KEYS = {spec.key.to_user_string(): spec.key for spec in TABLES}


class ImportConfig(dg.Config):
    landing_dir: str = Field(default="", description="Folder holding <LEAGUE>/ folders; empty = the landing zone")


def league_folder(root: Path, league: str) -> Path:
    """The folder of `league` under root, whatever its case."""
    for candidate in sorted(root.iterdir()) if root.is_dir() else []:
        if candidate.is_dir() and candidate.name.upper() == league:
            return candidate
    raise InputError(str(root / league), f"no folder for league {league} in the landing folder {root}")


@dg.multi_asset(
    name="import_league",
    specs=[STAGED, SNAPSHOT, *TABLES],
    check_specs=GATE_CHECK_SPECS,
    can_subset=False,  # one transaction publishes every table: the UI launches all of it or nothing
    description="Parse and stage the league, judge it (gate checks), snapshot user data, publish every table.",
)
def import_league(
    context: dg.AssetExecutionContext,
    config: ImportConfig,
    landing: LandingZone,
    database: RallyDatabase,
    import_policy: ImportPolicy,
) -> Iterator:
    league, run_id = context.partition_key, context.run_id
    root = Path(config.landing_dir).expanduser().resolve() if config.landing_dir else landing.root()
    parsed = parsed_league(league_folder(root, league), landing_root=root)  # parsed ahead by `rally import`
    with database.connect() as conn:
        staged = stage_league(conn, parsed, run_id)
    yield dg.MaterializeResult(asset_key=STAGED.key, metadata={**parse_metadata(parsed), **staged})
    del parsed

    with database.connect() as conn:
        verdicts = pipeline.judge(conn, league, run_id, import_policy.limits())
    yield from (gate_result(name, verdict) for name, verdict in verdicts.items())
    refused = next((name for name, verdict in verdicts.items() if not verdict.passed), None)
    if refused:
        with database.connect() as conn:
            clear_run(conn, run_id)
        context.log.warning(f"{league} not published, refused by {refused}: {verdicts[refused].description}")
        return  # nothing published: every table keeps its last good publish

    with database.connect() as conn:
        snapshot = take_snapshot(conn, run_id, league, keep=import_policy.snapshot_keep)
    yield dg.MaterializeResult(asset_key=SNAPSHOT.key, metadata=as_metadata(snapshot))  # its id as text
    report = _publish(database, league, run_id, carry_user_links=import_policy.allow_churn)
    with database.connect() as conn:
        tables = table_metadata(conn, league, report)
    tables["players"].update(publish_metadata(report))  # the publish as a whole, on the table users link to
    for table, metadata in tables.items():
        yield dg.MaterializeResult(asset_key=TABLE_KEYS[table], metadata=metadata)


def _publish(database: RallyDatabase, league: str, run_id: str, carry_user_links: bool):
    try:
        with database.connect() as conn:
            return publish_league(conn, league, run_id, carry_user_links=carry_user_links)
    except Exception as exc:
        # On a fresh connection: the failed one may be gone. Best effort; the run's failure is what counts.
        with contextlib.suppress(Exception), database.connect() as conn:
            record_failed(conn, run_id, league, str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        raise
