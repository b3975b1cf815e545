"""The repair job: repair, then the same health checks again."""

import dagster as dg

from rally_assets.defs.repair.assets import user_data_repairs
from rally_assets.defs.user_data.jobs import HEALTH_CHECK_SELECTION

# A failed health check: repair, then the same checks again (the history shows failed, then passed).
repair_job = dg.define_asset_job(
    "repair_job",
    selection=dg.AssetSelection.assets(user_data_repairs) | HEALTH_CHECK_SELECTION,
    executor_def=dg.in_process_executor,
    description="Fix league contexts, re-associate and discover, relink availability; then re-run the health checks.",
)
