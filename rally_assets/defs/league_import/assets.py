"""The import of one league (dynamic partition): parsed frames -> staged tables -> user-data
snapshot -> published league. Thin wrappers: the work is in rally_assets.core."""

import contextlib
from pathlib import Path

import dagster as dg
from pydantic import Field

from rally_assets.core.errors import InputError
from rally_assets.core.import_runs import record_failed
from rally_assets.core.parsing.league import ParsedLeague, parse_league
from rally_assets.core.protection.snapshots import take_snapshot
from rally_assets.core.publish.league import publish_league
from rally_assets.core.staging import stage_league
from rally_assets.defs.metadata import publish_metadata
from rally_assets.defs.partitions import league_partitions
from rally_assets.defs.resources import ImportPolicy, LandingZone, RallyDatabase

IMPORT_GROUP = "league_import"


class ImportConfig(dg.Config):
    landing_dir: str = Field(default="", description="Folder holding <LEAGUE>/ folders; empty = the landing zone")


def league_folder(root: Path, league: str) -> Path:
    """The folder of `league` under root, whatever its case."""
    for candidate in sorted(root.iterdir()) if root.is_dir() else []:
        if candidate.is_dir() and candidate.name.upper() == league:
            return candidate
    raise InputError(str(root / league), f"no folder for league {league} in the landing folder {root}")


@dg.asset(partitions_def=league_partitions, group_name=IMPORT_GROUP, kinds={"pandas"})
def parsed_league(context: dg.AssetExecutionContext, config: ImportConfig, landing: LandingZone) -> ParsedLeague:
    """The league's five JSON files, normalised into frames, with a parse report per file."""
    root = Path(config.landing_dir).expanduser().resolve() if config.landing_dir else landing.root()
    parsed = parse_league(league_folder(root, context.partition_key), landing_root=root)
    metadata: dict = {"folder": parsed.folder, "fingerprint": parsed.fingerprint, "teams": len(parsed.teams)}
    for name, report in parsed.reports.items():
        stem = name.removesuffix(".json")
        metadata[f"{stem}_read"] = report.rows_read
        metadata[f"{stem}_accepted"] = report.accepted
        metadata[f"{stem}_rejected"] = sum(report.rejected.values())
        metadata[f"{stem}_folded"] = report.folded
        metadata[f"{stem}_set_aside"] = sum(report.set_aside.values())
    metadata["rejections_by_reason"] = dg.MetadataValue.json(
        {name: report.rejected for name, report in parsed.reports.items() if report.rejected}
    )
    metadata["sound_variation"] = dg.MetadataValue.json(
        {
            name: {"folded": report.folded, "set_aside": report.set_aside, "league_aliases": report.league_aliases}
            for name, report in parsed.reports.items()
            if report.folded or report.set_aside or report.league_aliases
        }
    )
    metadata["series_covered"] = dg.MetadataValue.json(parsed.covered_series)
    metadata["rows_without_team"] = len(parsed.teamless)
    context.add_output_metadata(metadata)
    return parsed


@dg.asset(partitions_def=league_partitions, group_name=IMPORT_GROUP, kinds={"postgres"})
def staged_league(
    context: dg.AssetExecutionContext, parsed_league: ParsedLeague, database: RallyDatabase
) -> dg.MaterializeResult:
    """The parsed frames COPY'd into the staging schema under this run's id. Live tables untouched."""
    with database.connect() as conn:
        counts = stage_league(conn, parsed_league, context.run_id)
    return dg.MaterializeResult(metadata={f"{table}_rows": n for table, n in counts.items()})


@dg.asset(partitions_def=league_partitions, group_name=IMPORT_GROUP, kinds={"postgres"}, deps=[staged_league])
def user_data_snapshot(
    context: dg.AssetExecutionContext, database: RallyDatabase, import_policy: ImportPolicy
) -> dg.MaterializeResult:
    """Associations, league contexts, user_contexts and availability fingerprints, before the publish."""
    with database.connect() as conn:
        counts = take_snapshot(conn, context.run_id, context.partition_key, keep=import_policy.snapshot_keep)
    return dg.MaterializeResult(metadata=counts)


@dg.asset(partitions_def=league_partitions, group_name=IMPORT_GROUP, kinds={"postgres"}, deps=[user_data_snapshot])
def published_league(
    context: dg.AssetExecutionContext, database: RallyDatabase, import_policy: ImportPolicy
) -> dg.MaterializeResult:
    """The staged league published to the live tables in one transaction (contexts repaired inside it)."""
    league = context.partition_key
    try:
        with database.connect() as conn:
            report = publish_league(conn, league, context.run_id, carry_user_links=import_policy.allow_churn)
    except Exception as exc:
        # On a fresh connection: the failed one may be gone. Best effort; the run's failure is what counts.
        with contextlib.suppress(Exception), database.connect() as conn:
            record_failed(conn, context.run_id, league, str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        raise
    return dg.MaterializeResult(metadata=publish_metadata(report))
