"""The health checks of user data after the whole import: league-context health >= 95%, availability
rows with a user_id >= 90%."""

import dagster as dg

from rally_assets.core.users.contexts import league_context_health
from rally_assets.core.users.health import AVAILABILITY_MIN_PCT, CONTEXT_MIN_PCT, availability_user_id_coverage, meets
from rally_assets.defs.metadata import as_metadata
from rally_assets.defs.resources import RallyDatabase
from rally_assets.defs.user_data.assets import user_data_health


@dg.asset_check(
    asset=user_data_health, description=f"At least {CONTEXT_MIN_PCT}% of linked users have a valid league context."
)
def league_context_health_check(database: RallyDatabase):
    with database.connect() as conn:
        health = league_context_health(conn)
    passed = meets(health["valid"], health["total"], CONTEXT_MIN_PCT)
    why = f"league-context health {health['score']}% ({health['band']}): {health['valid']} valid, {health['null']} NULL, {health['broken']} broken of {health['total']}"
    return dg.AssetCheckResult(
        passed=bool(passed), description=why, metadata=as_metadata({**health, "minimum": CONTEXT_MIN_PCT})
    )


@dg.asset_check(
    asset=user_data_health, description=f"At least {AVAILABILITY_MIN_PCT}% of availability rows carry a user_id."
)
def availability_user_id_check(database: RallyDatabase):
    with database.connect() as conn:
        coverage = availability_user_id_coverage(conn)
    passed = meets(coverage["with_user_id"], coverage["total"], AVAILABILITY_MIN_PCT)
    why = f"{coverage['pct']}% of {coverage['total']} availability rows carry a user_id"
    return dg.AssetCheckResult(
        passed=bool(passed), description=why, metadata=as_metadata({**coverage, "minimum": AVAILABILITY_MIN_PCT})
    )


HEALTH_CHECKS = [league_context_health_check, availability_user_id_check]
