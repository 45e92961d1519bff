"""Quality: each Soda contract's checks as asset checks on its dataset (run with every materialization),
and the nightly job that verifies every row of every contract and runs every dbt test on every row."""

import dagster as dg

from orchestration.defs.dbt.project import model_keys
from orchestration.defs.quality.checks import quality_checks
from orchestration.defs.shared import VERIFY_TAG, WAREHOUSE_TAGS

quality_full_job = dg.define_asset_job(
    "quality_full",
    # the Soda contracts and the dbt tests (hourly runs test only the new rows of the big web models)
    selection=dg.AssetSelection.checks(*quality_checks) | dg.AssetSelection.checks_for_assets(*model_keys()),
    description="Verify every row of every Soda contract and run every dbt test on every row (hourly runs "
    "verify only the new rows).",
    tags={**WAREHOUSE_TAGS, VERIFY_TAG: "full"},
)
quality_full_schedule = dg.ScheduleDefinition(
    job=quality_full_job, cron_schedule="0 2 * * *", name="quality_full_daily", execution_timezone="UTC",
    tags={**WAREHOUSE_TAGS, VERIFY_TAG: "full"},
)  # fmt: skip

defs = dg.Definitions(asset_checks=quality_checks, jobs=[quality_full_job], schedules=[quality_full_schedule])
