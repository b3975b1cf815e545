"""The only place that builds dg.Definitions."""

import dagster as dg

from rally_assets.assets import parsed_league, published_league, staged_league
from rally_assets.jobs import import_league_job
from rally_assets.resources import LandingZone, RallyDatabase

defs = dg.Definitions(
    assets=[parsed_league, staged_league, published_league],
    jobs=[import_league_job],
    resources={"database": RallyDatabase(), "landing": LandingZone()},
)
