"""After the leagues are published, for all of them: league contexts -> association discovery ->
user-data health (its checks gate on it)."""

import dagster as dg

from rally_assets.core.users.contexts import fix_league_contexts, league_context_health
from rally_assets.core.users.health import availability_user_id_coverage, orphan_references
from rally_assets.core.users.repairs import discover
from rally_assets.defs.league_import.assets import published_league
from rally_assets.defs.metadata import markdown_table
from rally_assets.defs.repair.assets import user_data_repairs
from rally_assets.defs.resources import ImportPolicy, RallyDatabase

USER_DATA_GROUP = "user_data"


@dg.asset(group_name=USER_DATA_GROUP, kinds={"postgres"}, deps=[published_league])
def league_contexts(context: dg.AssetExecutionContext, database: RallyDatabase) -> dg.MaterializeResult:
    """Every user's league context, repaired by the one rule wherever it is NULL, broken or not theirs."""
    with database.connect() as conn:
        before = league_context_health(conn)
        fixes = fix_league_contexts(conn, source=f"run:{context.run_id}")
        after = league_context_health(conn)
    return dg.MaterializeResult(
        metadata={
            "contexts_fixed": len(fixes),
            "score_before": float(before["score"]),
            "score_after": float(after["score"]),
        }
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
            "sample": dg.MetadataValue.md(
                markdown_table(
                    [{k: x[k] for k in ("email", "league", "tenniscores_player_id", "confidence")} for x in links[:10]]
                )
            ),
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
