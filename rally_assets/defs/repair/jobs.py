"""The repair job: repair, then the same health checks again."""

import dagster as dg

from rally_assets.defs.repair.assets import user_data_repairs
from rally_assets.defs.user_data.assets import user_data_health

# A failed health check: repair, then the same checks again (the history shows failed, then passed).
repair_job = dg.define_asset_job(
    "repair_job",
    selection=dg.AssetSelection.assets(user_data_repairs, user_data_health),
    description="Fix league contexts, re-associate and discover, relink availability; then re-run the health checks.",
)
