"""The import as assets. Per league (dynamic partition): parsed frames -> staged tables ->
user-data snapshot -> published league. Then, for all leagues: league contexts -> association
discovery -> user-data health. Thin wrappers: the work is in the domain modules."""

import contextlib
from pathlib import Path

import dagster as dg
from pydantic import Field

from rally_assets.contexts import fix_league_contexts, league_context_health
from rally_assets.errors import InputError
from rally_assets.health import availability_user_id_coverage, orphan_references, relink_availability
from rally_assets.parsing import ParsedLeague, parse_league
from rally_assets.partitions import league_partitions
from rally_assets.publish import mark_failed, publish_league
from rally_assets.repairs import discover, re_associate
from rally_assets.resources import ImportPolicy, LandingZone, RallyDatabase
from rally_assets.snapshots import take_snapshot
from rally_assets.staging import stage_league

IMPORT_GROUP = "league_import"
USER_DATA_GROUP = "user_data"
REPAIR_GROUP = "repair"


class ImportConfig(dg.Config):
    landing_dir: str = Field(default="", description="Folder holding <LEAGUE>/ folders; empty = the landing zone")


def league_folder(root: Path, league: str) -> Path:
    """The folder of `league` under root, whatever its case."""
    for candidate in sorted(root.iterdir()) if root.is_dir() else []:
        if candidate.is_dir() and candidate.name.upper() == league:
            return candidate
    raise InputError(str(root / league), f"no folder for league {league} in the landing folder {root}")


def markdown_table(rows: list[dict]) -> str:
    if not rows:
        return "_no changes_"
    columns = list(rows[0])
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join("" if r[c] is None else str(r[c]).replace("|", "/") for c in columns) + " |" for r in rows]
    return "\n".join(lines)


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
    metadata["rejections_by_reason"] = dg.MetadataValue.json(
        {name: report.rejected for name, report in parsed.reports.items() if report.rejected}
    )
    metadata["rows_without_team"] = len(parsed.teamless)
    context.add_output_metadata(metadata)
    return parsed


@dg.asset(partitions_def=league_partitions, group_name=IMPORT_GROUP, kinds={"postgres"})
def staged_league(context: dg.AssetExecutionContext, parsed_league: ParsedLeague, database: RallyDatabase) -> dg.MaterializeResult:
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
            result = publish_league(conn, league, context.run_id, carry_user_links=import_policy.allow_churn)
    except Exception as exc:
        # On a fresh connection: the failed one may be gone. Best effort; the run's failure is what counts.
        with contextlib.suppress(Exception), database.connect() as conn:
            mark_failed(conn, league, context.run_id, str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        raise
    sample = result.pop("diff_sample", [])
    metadata = {k: v for k, v in result.items() if isinstance(v, (int, float, str))}
    metadata["players_upserted"] = result["players_added"] + result["players_changed"]
    metadata["diff_sample"] = dg.MetadataValue.md(markdown_table(sample))
    for key in ("contexts_fixed_by_reason", "links_unmatched_list"):
        if key in result:
            metadata[key] = dg.MetadataValue.json(result[key])
    return dg.MaterializeResult(metadata=metadata)


@dg.asset(group_name=USER_DATA_GROUP, kinds={"postgres"}, deps=[published_league])
def league_contexts(context: dg.AssetExecutionContext, database: RallyDatabase) -> dg.MaterializeResult:
    """Every user's league context, repaired by the one rule wherever it is NULL, broken or not theirs."""
    with database.connect() as conn:
        before = league_context_health(conn)
        fixes = fix_league_contexts(conn, source=f"run:{context.run_id}")
        after = league_context_health(conn)
    return dg.MaterializeResult(
        metadata={"contexts_fixed": len(fixes), "score_before": float(before["score"]), "score_after": float(after["score"])}
    )


@dg.asset(group_name=USER_DATA_GROUP, kinds={"postgres"}, deps=[league_contexts])
def association_discovery(
    context: dg.AssetExecutionContext, database: RallyDatabase, import_policy: ImportPolicy
) -> dg.MaterializeResult:
    """Users with fewer than 2 links, linked to their unambiguous namesake in each league (bounded, quiet)."""
    with database.connect() as conn:
        result = discover(conn, limit=import_policy.discovery_limit, source=f"run:{context.run_id}")
    links, fixes = result["discovered"], result["contexts"]
    context.log.info(f"discovery: {len(links)} association(s) for {len({x['user_id'] for x in links})} user(s)")
    return dg.MaterializeResult(
        metadata={
            "associations_discovered": len(links),
            "users_linked": len({x["user_id"] for x in links}),
            "contexts_fixed": len(fixes),
            "sample": dg.MetadataValue.md(markdown_table([{k: x[k] for k in ("email", "league", "tenniscores_player_id", "confidence")} for x in links[:10]])),
        }
    )


@dg.asset(group_name=REPAIR_GROUP, kinds={"postgres"})
def user_data_repairs(
    context: dg.AssetExecutionContext, database: RallyDatabase, import_policy: ImportPolicy
) -> dg.MaterializeResult:
    """The repairs a failed health check calls for: league contexts (the one rule), re-association
    and discovery, availability rows relinked to their user. Run by the repair job, then the checks."""
    source = f"run:{context.run_id}"
    with database.connect() as conn:
        before_contexts, before_availability = league_context_health(conn), availability_user_id_coverage(conn)
        relinked = relink_availability(conn, source=source)
        linked = re_associate(conn, source=source, discovery_limit=import_policy.discovery_limit)
        fixed = fix_league_contexts(conn, source=source)
        after_contexts, after_availability = league_context_health(conn), availability_user_id_coverage(conn)
    return dg.MaterializeResult(
        metadata={
            "availability_relinked": len(relinked),
            "links_carried": len(linked["carried"]),
            "links_unmatched": len(linked["unmatched"]),
            "associations_discovered": len(linked["discovered"]),
            "contexts_fixed": len(linked["contexts"]) + len(fixed),
            "league_context_score_before": float(before_contexts["score"]),
            "league_context_score_after": float(after_contexts["score"]),
            "availability_user_id_pct_before": float(before_availability["pct"]),
            "availability_user_id_pct_after": float(after_availability["pct"]),
        }
    )


@dg.asset(group_name=USER_DATA_GROUP, kinds={"postgres"}, deps=[association_discovery, user_data_repairs])
def user_data_health(database: RallyDatabase) -> dg.MaterializeResult:
    """The health numbers of user data after an import (its checks gate on them)."""
    with database.connect() as conn:
        contexts = league_context_health(conn)
        coverage = availability_user_id_coverage(conn)
        orphans = orphan_references(conn)
    return dg.MaterializeResult(
        metadata={
            "league_context_score": float(contexts["score"]),
            "league_context_band": contexts["band"],
            "availability_user_id_pct": float(coverage["pct"]),
            "orphan_references": sum(orphans.values()),
        }
    )
