import dagster as dg

from rally_assets.core.constants import LEAGUE_PARTITIONS

# One partition per league folder found in the landing zone (added by the CLI and the landing sensor).
league_partitions = dg.DynamicPartitionsDefinition(name=LEAGUE_PARTITIONS)
