"""The import of one league (dynamic partition), as one step: the landing folder is parsed and
staged, judged by the gate checks, snapshotted, then published to every Rally table in ONE
transaction. One non-subsettable multi-asset, so the UI can only launch the whole chain, and a
refused import leaves every table with its last good publish. The work is in rally_assets.core."""

from collections.abc import Iterator
from pathlib import Path

import dagster as dg
from pydantic import Field

from rally_assets.core.errors import InputError
from rally_assets.core.parsing.ahead import parsed as parsed_league
from rally_assets.core.pipeline import league_stages, refusal, refusal_line
from rally_assets.defs import catalog
from rally_assets.defs.events import Event
from rally_assets.defs.league_import.checks import GATE_CHECK_SPECS, gate_events
from rally_assets.defs.metadata import as_metadata, parse_metadata, publish_metadata, table_metadata
from rally_assets.defs.resources import ImportPolicy, LandingZone, RallyDatabase

landing_folder = catalog.league_spec(
    "landing_folder",
    group=catalog.LANDING_GROUP,
    layer="landing",
    domain="league",
    kinds={"json", "file"},
    description="The league's folder in the landing zone (`<LEAGUE>/players.json`, `match_history.json`, "
    "`schedules.json`, `series_stats.json`, `player_history.json`), written by the scrapers. "
    "The landing sensor starts an import when its files change and settle.",
)
STAGED = catalog.league_spec(
    "staged_league",
    group=catalog.IMPORT_GROUP,
    layer="staging",
    domain="league",
    kinds={"pandas", "postgres"},
    description="The league's five files parsed (pandas) and COPY'd into `rally_etl` staging under the run's id. "
    "The live tables are untouched. Its checks are the **gate**: a failed one refuses the publish.",
    deps=[landing_folder],
)
SNAPSHOT = catalog.league_spec(
    "user_data_snapshot",
    group=catalog.IMPORT_GROUP,
    layer="protection",
    domain="user_data",
    kinds={"postgres"},
    description="Associations, league contexts, user_contexts and availability fingerprints, taken just before "
    "the publish (what `availability_untouched` and `associations_preserved` compare against).",
    deps=[STAGED],
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


def league_events(conn, league: str, stage: str, result, parsed=None) -> list[Event]:
    """What one stage of core.pipeline.league_stages reports: the staged league (with what the parse
    read: `parsed`), the gate checks, the snapshot, then every published table."""
    if stage == "staged":
        return [Event(STAGED.key, {**parse_metadata(parsed), **result}, partition=league)]
    if stage == "judged":
        return gate_events(league, result)
    if stage == "snapshot":
        return [Event(SNAPSHOT.key, as_metadata(result), partition=league)]  # its id as text
    tables = table_metadata(conn, league, result)
    tables["players"].update(publish_metadata(result))  # the publish as a whole, on the table users link to
    return [Event(TABLE_KEYS[table], metadata, partition=league) for table, metadata in tables.items()]


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
    limits = import_policy.limits()
    with database.connect() as conn:
        stages = league_stages(
            conn, parsed, run_id, limits=limits, snapshot_keep=import_policy.snapshot_keep, url=database.resolved_url()
        )
        for stage, result in stages:
            yield from (event.as_result() for event in league_events(conn, league, stage, result, parsed))
            parsed = None  # staged (the first stage): the frames are no longer needed
            if stage == "judged" and refusal(result):
                context.log.warning(refusal_line(league, result))
