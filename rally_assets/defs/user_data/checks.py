"""The health checks of user data, on the app's tables they measure: after the whole import (the
post-import job), after a repair (the repair job) and between imports (the schedule). Each is one
verdict of rally_assets.core.pipeline.HEALTH_VERDICTS, made by one factory."""

import dagster as dg

from rally_assets.core import pipeline
from rally_assets.core.policy import AVAILABILITY_MIN_PCT, CONTEXT_MIN_PCT, WARN_BANDS
from rally_assets.defs.catalog import APP_TABLES
from rally_assets.defs.events import Event
from rally_assets.defs.metadata import health_event
from rally_assets.defs.resources import RallyDatabase
from rally_assets.defs.user_data.assets import association_discovery

# check -> (the app table it sits on, the verdict's score, the minimum)
HEALTH = {
    "league_context_health_check": ("users", "score", CONTEXT_MIN_PCT),
    "availability_user_id_check": ("player_availability", "pct", AVAILABILITY_MIN_PCT),
}
SEVERITY = (
    f" A failure is a WARN while the score stays in the {', '.join(WARN_BANDS)} bands, an ERROR below them; "
    "either one starts the repair job."
)
DESCRIPTIONS = {
    "league_context_health_check": f"At least {CONTEXT_MIN_PCT:g}% of linked users have a valid league context."
    + SEVERITY,
    "availability_user_id_check": f"At least {AVAILABILITY_MIN_PCT:g}% of availability rows carry a stable user_id."
    + SEVERITY,
}
REPAIRS_KEY = dg.AssetKey("user_data_repairs")  # in the repair job, the checks run after the repairs


def health_check_event(conn, name: str) -> Event:
    """Health check `name` evaluated now, on the app table it measures."""
    table, score_key, minimum = HEALTH[name]
    return health_event(pipeline.HEALTH_VERDICTS[name](conn), APP_TABLES[table].key, name, score_key, minimum)


def _health_check(name: str) -> dg.AssetChecksDefinition:
    table = HEALTH[name][0]

    @dg.asset_check(
        name=name,
        asset=APP_TABLES[table].key,
        additional_deps=[association_discovery.key, REPAIRS_KEY],
        description=DESCRIPTIONS[name],
    )
    def _check(database: RallyDatabase):
        with database.connect() as conn:
            return health_check_event(conn, name).as_result()

    return _check


HEALTH_CHECKS = [_health_check(name) for name in pipeline.HEALTH_VERDICTS]
HEALTH_CHECK_KEYS = [key for check in HEALTH_CHECKS for key in check.check_keys]
