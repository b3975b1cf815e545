"""The repairs a failed health check calls for, as an asset the repair job materialises."""

import dagster as dg

from rally_assets.core.users.contexts import fix_league_contexts, league_context_health
from rally_assets.core.users.health import availability_user_id_coverage, relink_availability
from rally_assets.core.users.repairs import re_associate
from rally_assets.defs import catalog
from rally_assets.defs.resources import ImportPolicy, RallyDatabase

REPAIR_GROUP = "repair"


@dg.asset(
    deps=[catalog.APP_TABLES[t] for t in ("users", "user_player_associations", "player_availability")],
    group_name=REPAIR_GROUP,
    kinds={"postgres"},
    owners=[catalog.ETL_OWNER],
    tags={"layer": "repair", "domain": "user_data"},
)
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
