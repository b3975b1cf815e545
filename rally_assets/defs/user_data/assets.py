"""After the leagues are published, for all of them: league contexts -> association discovery; the
health checks on the app's tables follow (user_data/checks.py)."""

import dagster as dg

from rally_assets.core.users.contexts import fix_league_contexts, league_context_health
from rally_assets.core.users.repairs import discover
from rally_assets.defs import catalog
from rally_assets.defs.catalog import APP_TABLES
from rally_assets.defs.league_import.assets import TABLE_KEYS
from rally_assets.defs.metadata import markdown_table
from rally_assets.defs.resources import ImportPolicy, RallyDatabase

USER_DATA_GROUP = "user_data"
USER_DATA = {"owners": [catalog.ETL_OWNER], "tags": {"layer": "repair", "domain": "user_data"}, "kinds": {"postgres"}}


def contexts_metadata(conn, source: str) -> dict:
    """League contexts restored for every user (the one rule), measured before and after."""
    before = league_context_health(conn)
    fixes = fix_league_contexts(conn, source=source)
    after = league_context_health(conn)
    return {"contexts_fixed": len(fixes), "score_before": float(before["score"]), "score_after": float(after["score"])}


def discovery_metadata(conn, limit: int, source: str, log) -> dict:
    """Association discovery (at most `limit` users), what it linked."""
    result = discover(conn, limit=limit, source=source)
    links, fixes = result["discovered"], result["contexts"]
    log.info(f"discovery: {len(links)} association(s) for {len({x['user_id'] for x in links})} user(s)")
    sample = [{k: x[k] for k in ("email", "league", "tenniscores_player_id", "confidence")} for x in links[:10]]
    return {
        "associations_discovered": len(links),
        "users_linked": len({x["user_id"] for x in links}),
        "contexts_fixed": len(fixes),
        "sample": dg.MetadataValue.md(markdown_table(sample)),
    }


# What each reads: the published players and the app's own tables (it writes users' league context
# and new associations, the repairs users would otherwise make by hand).
@dg.asset(group_name=USER_DATA_GROUP, deps=[TABLE_KEYS["players"], APP_TABLES["users"]], **USER_DATA)
def league_contexts(context: dg.AssetExecutionContext, database: RallyDatabase) -> dg.MaterializeResult:
    """Every user's league context, restored by the one rule wherever it is NULL, broken or not theirs
    (after any publish, for all leagues). `score_after` is the share of linked users with a valid one."""
    with database.connect() as conn:
        return dg.MaterializeResult(metadata=contexts_metadata(conn, source=f"run:{context.run_id}"))


@dg.asset(group_name=USER_DATA_GROUP, deps=[league_contexts, APP_TABLES["user_player_associations"]], **USER_DATA)
def association_discovery(
    context: dg.AssetExecutionContext, database: RallyDatabase, import_policy: ImportPolicy
) -> dg.MaterializeResult:
    """Users with fewer than 2 links, linked to their unambiguous namesake in each league (bounded:
    `discovery_limit` users per run; a name two players share is never guessed)."""
    with database.connect() as conn:
        metadata = discovery_metadata(conn, import_policy.discovery_limit, f"run:{context.run_id}", context.log)
    return dg.MaterializeResult(metadata=metadata)
