"""The health checks of user data after the whole import (and on the schedule between imports),
each one verdict of rally_assets.core.pipeline.HEALTH_VERDICTS, made by one factory."""

import dagster as dg

from rally_assets.core import pipeline
from rally_assets.core.policy import AVAILABILITY_MIN_PCT, CONTEXT_MIN_PCT
from rally_assets.defs.metadata import check_result
from rally_assets.defs.resources import RallyDatabase
from rally_assets.defs.user_data.assets import user_data_health

MINIMUMS = {"league_context_health_check": CONTEXT_MIN_PCT, "availability_user_id_check": AVAILABILITY_MIN_PCT}
DESCRIPTIONS = {
    "league_context_health_check": f"At least {CONTEXT_MIN_PCT}% of linked users have a valid league context.",
    "availability_user_id_check": f"At least {AVAILABILITY_MIN_PCT}% of availability rows carry a user_id.",
}


def _health_check(name: str) -> dg.AssetChecksDefinition:
    verdict = pipeline.HEALTH_VERDICTS[name]

    @dg.asset_check(name=name, asset=user_data_health, description=DESCRIPTIONS[name])
    def _check(database: RallyDatabase):
        with database.connect() as conn:
            return check_result(verdict(conn), minimum=MINIMUMS[name])

    return _check


HEALTH_CHECKS = [_health_check(name) for name in pipeline.HEALTH_VERDICTS]
